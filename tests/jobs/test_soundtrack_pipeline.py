"""An ad that speaks and reads, end to end through the API on the preview provider: voice-over
in each scene, burned-in captions, a ducked music bed, -14 LUFS, caption files, and a
narration change that redoes only that scene's voice."""

from __future__ import annotations

import array
import asyncio
import math
from pathlib import Path
from typing import Any

import httpx

from reelforge.jobs.repository import JobRepository
from reelforge.media.audio import MAX_TRUE_PEAK_DB, TARGET_LUFS, measure_loudness
from reelforge.media.ffmpeg import probe
from reelforge.media.formats import frame_size
from reelforge.media.overlays import SAFE_ZONES
from reelforge.runtime import Runtime
from tests.helpers import download, ffmpeg, gql, mutate, wait_for_status

BRIEF = "Cold brew coffee, smooth and bold. Made slowly overnight. Try it today."
FIELDS = """
id status voice language captions music
video { id url durationSeconds loudnessLufs truePeakDb }
captionsVtt { id url contentType } captionsSrt { id url contentType }
scenes { index duration narration voiceOver { id durationSeconds } words { text start end } }
"""
WIDTH, HEIGHT = frame_size("9:16", "480p")


async def run_job(client: httpx.AsyncClient, **input: Any) -> dict[str, Any]:
    body = await gql(
        client,
        "mutation($input: CreateJobInput!) { createJob(input: $input) { id } }",
        input={
            "brief": BRIEF,
            "sceneCount": 3,
            "targetDuration": 3.0,
            "aspectRatio": "PORTRAIT_9_16",
            "resolution": "R480P",
            **input,
        },
    )
    assert not body.get("errors"), body
    job_id = body["data"]["createJob"]["id"]
    return await render(client, job_id)


async def render(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    await wait_for_status(client, job_id, "STORYBOARD_COMPLETE")
    assert not (await mutate(client, "approveStoryboard", job_id)).get("errors")
    assert not (await mutate(client, "renderVideo", job_id)).get("errors")
    await wait_for_status(client, job_id, "COMPLETED", timeout=120)
    body = await gql(client, f"query($id: ID!) {{ job(id: $id) {{ {FIELDS} }} }}", id=job_id)
    assert not body.get("errors"), body
    job: dict[str, Any] = body["data"]["job"]
    return job


def levels(video: Path, window: float = 0.05) -> list[float]:
    """RMS level (dBFS) of each `window` of the soundtrack."""
    raw = ffmpeg("-i", str(video), "-map", "0:a:0", "-ac", "1", "-ar", "8000", "-f", "s16le", "-")
    samples = array.array("h", raw)
    size = int(8000 * window)
    out = []
    for i in range(0, len(samples) - size + 1, size):
        chunk = samples[i : i + size]
        rms = math.sqrt(sum(s * s for s in chunk) / size) / 32768
        out.append(20 * math.log10(rms) if rms > 0 else -120.0)
    return out


def gray_frame(video: Path, at: float) -> bytes:
    return ffmpeg(
        *("-ss", f"{at:.3f}", "-i", str(video), "-frames:v", "1"),
        *("-f", "rawvideo", "-pix_fmt", "gray", "-"),
    )


def rows(frame: bytes, top: float, bottom: float) -> bytes:
    return frame[round(HEIGHT * top) * WIDTH : round(HEIGHT * bottom) * WIDTH]


def difference(a: bytes, b: bytes) -> float:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


async def predictions(runtime: Runtime, job_id: str) -> dict[str, int]:
    async with runtime.unit() as unit:
        found = await JobRepository(unit).predictions(job_id)
    counts: dict[str, int] = {}
    for p in found:
        if p.status == "succeeded":
            counts[p.kind] = counts.get(p.kind, 0) + 1
    return counts


async def test_a_default_job_speaks_in_every_scene_reads_and_measures_minus_14_lufs(
    client: httpx.AsyncClient, runtime: Runtime, worker: Any, tmp_path: Path
) -> None:
    # A clip uploaded for every scene: both jobs below then show exactly the same pictures.
    source = tmp_path / "source.mp4"
    ffmpeg(
        *("-f", "lavfi", "-i", f"testsrc2=s={WIDTH}x{HEIGHT}:r=24:d=3"),
        *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(source)),
    )
    upload = await client.post(
        "/api/v2/upload-asset", files={"file": ("s.mp4", source.read_bytes())}
    )
    assert upload.status_code == 201, upload.text
    clip_id = upload.json()["id"]
    # Two of the brief's three lines, a scene each: the second starts where the first ends.
    lines = BRIEF.split(". ")[::2]
    scenes = [{"description": s, "assetId": clip_id} for s in lines]
    scenes = [{**s, "narration": s["description"].rstrip(".") + "."} for s in scenes]

    job = await run_job(
        client, scenes=scenes, sceneCount=2
    )  # every sound-and-words option at its default
    assert (job["voice"], job["language"]) == ("espeak:en", "en")
    assert (job["captions"], job["music"]) == ("WORD", "UPBEAT")

    video = await download(client, job["video"]["url"], tmp_path / "video.mp4")
    measured = await measure_loudness(video)  # FFmpeg's ebur128 on the delivered file
    assert abs(measured.integrated - TARGET_LUFS) <= 1.0
    assert measured.true_peak <= MAX_TRUE_PEAK_DB
    assert job["video"]["loudnessLufs"] == measured.integrated
    assert job["video"]["truePeakDb"] == measured.true_peak

    # Speech starts inside each scene: the level jumps where the scene's first word is heard
    # (over the ducked bed), and the scene is long enough for all of its line.
    level = levels(video)
    start = 0.0
    for scene in job["scenes"]:
        words = scene["words"]
        assert scene["voiceOver"] is not None and words
        assert [w["text"] for w in words] == scene["narration"].split()
        first, last = start + words[0]["start"], start + words[-1]["end"]
        assert start < first < last <= start + scene["duration"]
        before = max(level[int((first - 0.25) / 0.05) : int((first - 0.05) / 0.05)])
        during = max(level[int(first / 0.05) : int((first + 0.4) / 0.05)])
        assert during > before + 6, (scene["index"], before, during)
        start += scene["duration"]
    assert abs((await probe(video)).duration_seconds - start) < 0.2

    # Caption files beside the video, with the same words.
    vtt = await client.get(job["captionsVtt"]["url"])
    assert vtt.headers["content-type"].startswith("text/vtt")
    assert vtt.text.startswith("WEBVTT") and "Try it today." in vtt.text
    srt = await client.get(job["captionsSrt"]["url"])
    assert "00:00:00,300 --> " in srt.text and "Try it today." in srt.text

    # An export to another placement keeps the loudness (and says so).
    body = await gql(
        client,
        """mutation($id: ID!, $input: ExportVideoInput!) {
             exportVideo(jobId: $id, input: $input) { id } }""",
        id=job["id"],
        input={"targets": [{"aspectRatio": "SQUARE_1_1", "resolution": "R480P"}]},
    )
    assert not body.get("errors"), body
    for _ in range(300):
        exports = (
            await gql(
                client,
                "query($id: ID!) { job(id: $id) { exports { status asset { loudnessLufs truePeakDb } } } }",
                id=job["id"],
            )
        )["data"]["job"]["exports"]
        if exports[0]["status"] in ("COMPLETED", "FAILED"):
            break
        await asyncio.sleep(0.1)
    exported = exports[0]["asset"]
    assert abs(exported["loudnessLufs"] - TARGET_LUFS) <= 1.0
    assert exported["truePeakDb"] <= MAX_TRUE_PEAK_DB

    # The same first scene without captions: same pictures, no text in the caption band.
    plain_job = await run_job(
        client, scenes=scenes[:1], sceneCount=1, captions="NONE", voice=None, music="NONE"
    )
    assert plain_job["captionsVtt"] is None
    plain = await download(client, plain_job["video"]["url"], tmp_path / "plain.mp4")
    at = job["scenes"][0]["words"][1]["start"] + 0.05
    assert plain_job["scenes"][0]["duration"] >= at  # same moment exists in both
    captioned, bare = gray_frame(video, at), gray_frame(plain, at)
    zone = SAFE_ZONES["9:16"]
    band = (0.55, 1 - zone.bottom)
    assert difference(rows(captioned, *band), rows(bare, *band)) > 3
    assert difference(rows(captioned, 0, zone.top), rows(bare, 0, zone.top)) < 1.5


async def test_a_new_narration_redoes_only_that_scenes_voice(
    client: httpx.AsyncClient, runtime: Runtime, worker: Any
) -> None:
    # A line a scene, short: each scene is as long as its line.
    job = await run_job(client, brief="Cold brew. Try it today.", sceneCount=2, targetDuration=2.0)
    assert await predictions(runtime, job["id"]) == {
        "plan": 1,
        "image": 2,
        "video": 2,
        "speech": 2,
        "music": 1,
    }
    body = await gql(
        client,
        """mutation($id: ID!, $input: RefineSceneInput!) {
             refineScene(jobId: $id, sceneIndex: 1, input: $input) { id } }""",
        id=job["id"],
        input={"narration": "Order now."},
    )
    assert not body.get("errors"), body
    again = await render(client, job["id"])
    assert await predictions(runtime, job["id"]) == {
        "plan": 1,
        "image": 2,
        "video": 2,
        "speech": 3,  # exactly one more: the changed line
        "music": 1,  # the bed is reused
    }
    assert [w["text"] for w in again["scenes"][1]["words"]] == ["Order", "now."]
    assert again["scenes"][0] == job["scenes"][0]  # the other scene is untouched
