"""Platform presets and brand kits, through the API on the preview provider: each platform's
rules refused by name, a TikTok ad that fits TikTok, exports checked against their row, a
brand kit's logo in its corner of every frame and never in the platform's unsafe zone, and
the call to action on the end card."""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest

from reelforge.media.ffmpeg import probe
from reelforge.media.overlays import FONT_FILE, LOGO_SCALE
from reelforge.media.platforms import PRESETS, Platform, markdown_table
from reelforge.providers.base import PlanRequest, PredictionKind, input_hash
from reelforge.providers.planning import plan_prompt
from reelforge.providers.preview import preview_storyboard
from tests.conftest import make_token
from tests.helpers import download, error_code, ffmpeg, gql, mutate, wait_for_status

BRIEF = "Fresh lemonade for hot summer days. Ice cold. Buy now."
CREATE = "mutation($input: CreateJobInput!) { createJob(input: $input) { id platform } }"
JOB = """query($id: ID!) { job(id: $id) {
  id status platform callToAction aspectRatio targetDuration
  video { url width height durationSeconds }
} }"""
SAVE_KIT = """mutation($input: BrandKitInput!) { saveBrandKit(input: $input) {
  id name primaryColor secondaryColor callToAction logoCorner logoOpacity logo { id } font { id }
} }"""
EXPORT = """mutation($id: ID!, $input: ExportVideoInput!) { exportVideo(jobId: $id, input: $input) {
  id status platform } }"""
EXPORTS = """query($id: ID!) { job(id: $id) { exports {
  id status error platform platformChecks { rule passed limit actual } asset { url }
} } }"""
MAGENTA = (255, 0, 255)  # the logo: one pure colour
YELLOW = (255, 255, 0)  # the kit's secondary colour: the call to action's text
NAVY = (0, 51, 102)  # the kit's primary colour: the end card


def quiet_job(**input: Any) -> dict[str, Any]:
    return {"brief": BRIEF, "voice": None, "captions": "NONE", "music": "NONE", **input}


async def upload(client: httpx.AsyncClient, name: str, data: bytes) -> httpx.Response:
    return await client.post("/api/v2/upload-asset", files={"file": (name, data)})


async def uploaded(client: httpx.AsyncClient, name: str, data: bytes) -> str:
    response = await upload(client, name, data)
    assert response.status_code == 201, response.text
    asset_id: str = response.json()["id"]
    return asset_id


async def rendered(client: httpx.AsyncClient, input: dict[str, Any]) -> dict[str, Any]:
    body = await gql(client, CREATE, input=input)
    assert not body.get("errors"), body
    job_id = body["data"]["createJob"]["id"]
    await wait_for_status(client, job_id, "STORYBOARD_COMPLETE")
    assert not (await mutate(client, "approveStoryboard", job_id)).get("errors")
    assert not (await mutate(client, "renderVideo", job_id)).get("errors")
    await wait_for_status(client, job_id, "COMPLETED", timeout=120)
    body = await gql(client, JOB, id=job_id)
    assert not body.get("errors"), body
    job: dict[str, Any] = body["data"]["job"]
    return job


def frames_rgb(video: Path, width: int, height: int) -> list[bytes]:
    """Every frame, as rgb24 at `width` x `height` (nearest neighbour: colours stay pure)."""
    raw = ffmpeg(
        *("-i", str(video), "-map", "0:v:0", "-fps_mode", "passthrough"),
        *("-vf", f"scale={width}:{height}:flags=neighbor"),
        *("-f", "rawvideo", "-pix_fmt", "rgb24", "-"),
    )
    size = width * height * 3
    return [raw[i : i + size] for i in range(0, len(raw), size)]


@cache
def near(color: tuple[int, int, int], tolerance: int = 40) -> list[bytes]:
    """Per channel, a byte table: 1 where a value is within `tolerance` of `color`'s, else 0."""
    return [bytes(int(abs(v - c) <= tolerance) for v in range(256)) for c in color]


def count(
    frame: bytes, width: int, color: tuple[int, int, int], box: tuple[int, int, int, int]
) -> int:
    """Pixels near `color` (every channel within 40) in box (x0, y0, x1, y1).

    Each channel of the box is mapped to 0/1 bytes by its table; the three masks are ANDed as
    big integers, so the count is exact without a Python loop over pixels."""
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        return 0
    pixels = b"".join(frame[(y * width + x0) * 3 : (y * width + x1) * 3] for y in range(y0, y1))
    both = -1
    for channel, table in enumerate(near(color)):
        both &= int.from_bytes(pixels[channel::3].translate(table), "big")
    return both.bit_count()


# -- the rules of each platform ------------------------------------------------------------


async def test_a_tiktok_job_of_3_seconds_is_bad_user_input_on_target_duration(
    client: httpx.AsyncClient,
) -> None:
    body = await gql(client, CREATE, input=quiet_job(platform="TIKTOK", targetDuration=3.0))
    assert error_code(body) == "BAD_USER_INPUT"
    extensions = body["errors"][0]["extensions"]
    assert extensions["field"] == "targetDuration"
    assert (extensions["platform"], extensions["rule"]) == ("TIKTOK", "duration")
    assert "5–60 s" in body["errors"][0]["message"]


async def test_a_480p_tiktok_job_is_below_tiktoks_minimum_size(client: httpx.AsyncClient) -> None:
    # 9:16 at 480p is 480x854, under TikTok's 540x960.
    body = await gql(client, CREATE, input=quiet_job(platform="TIKTOK", resolution="R480P"))
    assert error_code(body) == "BAD_USER_INPUT"
    extensions = body["errors"][0]["extensions"]
    assert (extensions["field"], extensions["rule"]) == ("resolution", "min_size")
    assert "540x960" in body["errors"][0]["message"]


async def test_a_platform_refuses_another_aspect_ratio(client: httpx.AsyncClient) -> None:
    body = await gql(
        client, CREATE, input=quiet_job(platform="LINKEDIN", aspectRatio="LANDSCAPE_16_9")
    )
    assert error_code(body) == "BAD_USER_INPUT"
    extensions = body["errors"][0]["extensions"]
    assert (extensions["field"], extensions["rule"]) == ("aspectRatio", "aspect_ratio")


async def test_the_platforms_query_lists_every_preset_with_its_safe_zone(
    client: httpx.AsyncClient,
) -> None:
    body = await gql(
        client,
        "{ platforms { platform aspectRatio minWidth minHeight minSeconds maxSeconds maxFps "
        "safeZone { top bottom left right } sources } }",
    )
    assert not body.get("errors"), body
    rows = {p["platform"]: p for p in body["data"]["platforms"]}
    assert set(rows) == {p.name for p in Platform}
    tiktok = rows["TIKTOK"]
    assert (tiktok["aspectRatio"], tiktok["minWidth"], tiktok["minHeight"]) == (
        "PORTRAIT_9_16",
        540,
        960,
    )
    assert (tiktok["minSeconds"], tiktok["maxSeconds"]) == (5, 60)
    assert rows["INSTAGRAM_REELS"]["safeZone"] == {
        "top": 0.14,
        "bottom": 0.35,
        "left": 0.06,
        "right": 0.06,
    }
    assert rows["LINKEDIN"]["maxFps"] == 30
    assert all(p["sources"] for p in rows.values())


# -- a platform's video ---------------------------------------------------------------------


async def test_a_tiktok_job_renders_9_16_of_at_least_540x960_within_5_to_60_seconds_and_its_export_meets_the_bitrate(
    client: httpx.AsyncClient, worker: Any, tmp_path: Path
) -> None:
    # No aspect ratio given: TikTok's. Its shortest ad, to keep the test fast, of a flat 4:3
    # clip (not 9:16: the frame is the platform's) rather than a picture generated at 720p.
    source = tmp_path / "flat.mp4"
    ffmpeg(
        *("-f", "lavfi", "-i", "color=c=0x3080c0:s=320x240:r=24:d=1"),
        *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(source)),
    )
    clip_id = await uploaded(client, "flat.mp4", source.read_bytes())
    job = await rendered(
        client,
        quiet_job(platform="TIKTOK", sceneCount=1, targetDuration=5.0, assetIds=[clip_id]),
    )
    assert (job["platform"], job["aspectRatio"]) == ("TIKTOK", "PORTRAIT_9_16")
    video = await probe(await download(client, job["video"]["url"], tmp_path / "tiktok.mp4"))
    assert video.width >= 540 and video.height >= 960
    assert video.width * 16 == video.height * 9
    assert 5.0 <= video.duration_seconds <= 60.0

    body = await gql(client, EXPORT, id=job["id"], input={"targets": [{"platform": "TIKTOK"}]})
    assert not body.get("errors"), body
    export = await finished_export(client, job["id"])
    checks = {c["rule"]: c for c in export["platformChecks"]}
    assert all(c["passed"] for c in checks.values()), checks
    # A flat picture: the export is re-encoded to reach TikTok's 516 kbps floor.
    made = await probe(await download(client, export["asset"]["url"], tmp_path / "export.mp4"))
    assert made.video_kbps is not None and made.video_kbps >= 516
    assert checks["min_video_kbps"]["actual"] == made.video_kbps


async def finished_export(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    for _ in range(600):
        body = await gql(client, EXPORTS, id=job_id)
        exports = body["data"]["job"]["exports"]
        if exports and exports[0]["status"] in ("COMPLETED", "FAILED"):
            assert exports[0]["status"] == "COMPLETED", exports[0]["error"]
            export: dict[str, Any] = exports[0]
            return export
        await asyncio.sleep(0.1)
    raise AssertionError("the export did not finish")


async def test_a_linkedin_export_is_below_30_fps(
    client: httpx.AsyncClient, worker: Any, tmp_path: Path
) -> None:
    # A 30 fps upload as the scene's clip: the export brings it below LinkedIn's cap.
    source = tmp_path / "thirty.mp4"
    ffmpeg(
        *("-f", "lavfi", "-i", "testsrc2=s=480x600:r=30:d=3"),
        *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(source)),
    )
    clip_id = await uploaded(client, "thirty.mp4", source.read_bytes())
    job = await rendered(
        client,
        quiet_job(
            platform="LINKEDIN",
            resolution="R480P",
            targetDuration=3.0,
            sceneCount=1,
            assetIds=[clip_id],
        ),
    )
    body = await gql(
        client,
        EXPORT,
        id=job["id"],
        input={"targets": [{"platform": "LINKEDIN", "resolution": "R480P"}]},
    )
    assert not body.get("errors"), body
    export = await finished_export(client, job["id"])
    assert export["platform"] == "LINKEDIN"
    made = await probe(await download(client, export["asset"]["url"], tmp_path / "li.mp4"))
    assert made.fps < 30
    checks = {c["rule"]: c for c in export["platformChecks"]}
    assert checks["max_fps"]["passed"] and checks["max_fps"]["actual"] == made.fps
    assert (made.width, made.height) == (480, 600)


async def test_an_export_breaking_its_platform_is_refused_naming_the_rule(
    client: httpx.AsyncClient, worker: Any
) -> None:
    job = await rendered(client, quiet_job(sceneCount=1, targetDuration=2.0, resolution="R480P"))
    body = await gql(
        client,
        EXPORT,
        id=job["id"],
        input={"targets": [{"platform": "TIKTOK", "resolution": "R480P"}]},
    )
    assert error_code(body) == "BAD_USER_INPUT"
    extensions = body["errors"][0]["extensions"]
    assert (extensions["field"], extensions["rule"]) == ("resolution", "min_size")


# -- brand kits ------------------------------------------------------------------------------


async def test_a_brand_kit_checks_its_colours_and_assets_and_belongs_to_its_client(
    client: httpx.AsyncClient, app: Any, settings: Any, tmp_path: Path
) -> None:
    body = await gql(client, SAVE_KIT, input={"name": "Lemon", "primaryColor": "navy"})
    assert error_code(body) == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["field"] == "primaryColor"

    # A real font is taken (sniffed and drawn with); a renamed non-font is not.
    font_id = await uploaded(client, "brand.ttf", FONT_FILE.read_bytes())
    fake = await upload(client, "fake.ttf", b"\x00\x01\x00\x00" + b"\x00" * 200)
    assert fake.status_code == 415, fake.text
    body = await gql(client, SAVE_KIT, input={"name": "Lemon", "logoAssetId": font_id})
    assert body["errors"][0]["extensions"]["field"] == "logoAssetId"

    body = await gql(
        client,
        SAVE_KIT,
        input={
            "name": "Lemon",
            "primaryColor": "#003366",
            "secondaryColor": "#FFFF00",
            "fontAssetId": font_id,
            "callToAction": "  Order   now ",
        },
    )
    assert not body.get("errors"), body
    kit = body["data"]["saveBrandKit"]
    assert (kit["primaryColor"], kit["secondaryColor"]) == ("#003366", "#ffff00")
    assert kit["callToAction"] == "Order now" and kit["font"]["id"] == font_id
    assert (kit["logoCorner"], kit["logoOpacity"]) == ("TOP_RIGHT", 0.85)

    listed = await gql(client, "{ brandKits { id name } }")
    assert listed["data"]["brandKits"] == [{"id": kit["id"], "name": "Lemon"}]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {make_token(settings, client_id='other')}"},
    ) as other:
        assert (await gql(other, "{ brandKits { id } }"))["data"]["brandKits"] == []
        gone = await gql(other, "mutation($id: ID!) { deleteBrandKit(id: $id) }", id=kit["id"])
        assert error_code(gone) == "NOT_FOUND"
        used = await gql(other, CREATE, input=quiet_job(brandKitId=kit["id"]))
        assert error_code(used) == "BAD_USER_INPUT"
    deleted = await gql(client, "mutation($id: ID!) { deleteBrandKit(id: $id) }", id=kit["id"])
    assert deleted["data"]["deleteBrandKit"] == kit["id"]
    assert (await gql(client, "{ brandKits { id } }"))["data"]["brandKits"] == []


async def test_a_brand_kits_logo_is_in_its_corner_of_every_frame_and_the_call_to_action_ends_the_ad(
    client: httpx.AsyncClient, worker: Any, tmp_path: Path
) -> None:
    # A plain grey clip as the scene, and a logo of one pure colour.
    grey = tmp_path / "grey.mp4"
    ffmpeg(
        *("-f", "lavfi", "-i", "color=c=0x808080:s=360x640:r=24:d=3"),
        *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(grey)),
    )
    logo = tmp_path / "logo.png"
    ffmpeg(*("-f", "lavfi", "-i", "color=c=0xFF00FF:s=160x80", "-frames:v", "1", str(logo)))
    clip_id = await uploaded(client, "grey.mp4", grey.read_bytes())
    logo_id = await uploaded(client, "logo.png", logo.read_bytes())
    font_id = await uploaded(client, "brand.ttf", FONT_FILE.read_bytes())
    body = await gql(
        client,
        SAVE_KIT,
        input={
            "name": "Lemon",
            "logoAssetId": logo_id,
            "fontAssetId": font_id,
            "primaryColor": "#003366",
            "secondaryColor": "#ffff00",
            "logoCorner": "TOP_LEFT",
            "logoOpacity": 1.0,
            "callToAction": "Order at lemon.example",
        },
    )
    assert not body.get("errors"), body
    kit_id = body["data"]["saveBrandKit"]["id"]
    base = quiet_job(
        platform="INSTAGRAM_REELS",
        sceneCount=1,
        targetDuration=2.0,
        assetIds=[clip_id],
        brandKitId=kit_id,
    )
    plain = await rendered(client, {**base, "callToAction": ""})  # no end card
    with_cta = await rendered(client, base)  # the kit's call to action
    assert (plain["callToAction"], with_cta["callToAction"]) == (None, "Order at lemon.example")

    zone = PRESETS[Platform.INSTAGRAM_REELS].safe_zone
    w, h = 180, 320  # a quarter of 720x1280, each pixel of it 4x4 of the video's
    # The unsafe bands in quarter pixels, rounded toward the frame's edges: a pixel counts
    # when all of it is in the band (chroma is shared by 2x2 pixels: an edge bleeds 1 px).
    left, right, top, bottom = (m // 4 for m in zone.margins(720, 1280))
    unsafe = [(0, 0, w, top), (0, h - bottom, w, h), (0, 0, left, h), (w - right, 0, w, h)]
    logo_px = round(LOGO_SCALE * 720 / 4)
    corner = (left, top, left + logo_px + 2, top + logo_px + 2)

    plain_frames = frames_rgb(
        await download(client, plain["video"]["url"], tmp_path / "a.mp4"), w, h
    )
    assert len(plain_frames) == 48
    for frame in plain_frames:
        assert count(frame, w, MAGENTA, corner) >= 200  # the 160x80 logo, scaled: ~29x14
        assert sum(count(frame, w, MAGENTA, box) for box in unsafe) == 0

    cta_frames = frames_rgb(
        await download(client, with_cta["video"]["url"], tmp_path / "b.mp4"), w, h
    )
    for frame in cta_frames:
        assert sum(count(frame, w, MAGENTA, box) for box in unsafe) == 0
    whole = (0, 0, w, h)
    last, last_plain = cta_frames[-1], plain_frames[-1]
    # The end card: the kit's colour fills the frame, its call to action in yellow, the logo.
    assert count(last, w, NAVY, whole) > w * h // 2
    assert count(last, w, YELLOW, whole) > 100
    assert count(last, w, MAGENTA, whole) > 200
    assert count(last_plain, w, NAVY, whole) == 0 and count(last_plain, w, YELLOW, whole) == 0
    # Before its last 1.5 s the ad is the same picture with or without an end card.
    assert count(cta_frames[0], w, NAVY, whole) == 0


# -- the planner ------------------------------------------------------------------------------


def test_the_planner_is_told_the_platform_and_the_brand_and_writes_headlines() -> None:
    request = PlanRequest(
        brief=BRIEF,
        scene_count=3,
        target_duration=15,
        style=None,
        aspect_ratio="9:16",
        platform="TikTok in-feed",
        pacing=PRESETS[Platform.TIKTOK].pacing,
        brand_colors=("#003366", "#ffff00"),
        call_to_action="Order now",
        headlines=True,
    )
    prompt = plan_prompt(request)
    assert "TikTok in-feed" in prompt and "first 2 seconds" in prompt
    assert "#003366" in prompt and "never draw it" in prompt
    assert '"Order now"' in prompt and '"headline"' in prompt
    assert all(s.headline for s in preview_storyboard(request))


def test_plans_paid_for_before_platforms_existed_are_still_found() -> None:
    old = PlanRequest(
        brief=BRIEF, scene_count=3, target_duration=15, style=None, aspect_ratio="9:16"
    )
    legacy_fields = {
        "brief": BRIEF,
        "scene_count": 3,
        "target_duration": 15,
        "style": None,
        "aspect_ratio": "9:16",
        "words_per_second": old.words_per_second,
    }
    payload = json.dumps({"kind": "plan", "model": "m", "input": legacy_fields}, sort_keys=True)
    assert input_hash(PredictionKind.PLAN, "m", old) == hashlib.sha256(payload.encode()).hexdigest()
    told = replace(old, platform="TikTok in-feed")
    assert input_hash(PredictionKind.PLAN, "m", told) != input_hash(PredictionKind.PLAN, "m", old)


@pytest.mark.parametrize("platform", list(Platform))
def test_every_presets_default_duration_keeps_its_own_rule(platform: Platform) -> None:
    p = PRESETS[platform]
    assert p.min_seconds <= p.default_seconds <= p.max_seconds


def test_the_readmes_preset_table_is_the_presets_table() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme
