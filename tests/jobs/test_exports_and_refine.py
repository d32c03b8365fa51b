"""Exports to other placements, scene refinement, and the incremental re-render."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from reelforge.media.ffmpeg import probe
from reelforge.media.formats import export_size
from reelforge.providers.replicate import ReplicateProvider
from reelforge.runtime import Runtime
from tests.fakes.replicate import FakeReplicate
from tests.helpers import JOB_FIELDS, create_job, error_code, gql, mutate, wait_for_status

EXPORT_FIELDS = "id aspectRatio resolution container fit status progress error asset { id url contentType width height durationSeconds }"


async def completed_job(client: httpx.AsyncClient, **input: Any) -> dict[str, Any]:
    job = await create_job(client, **input)
    await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE")
    assert not (await mutate(client, "approveStoryboard", job["id"])).get("errors")
    assert not (await mutate(client, "renderVideo", job["id"])).get("errors")
    return await wait_for_status(client, job["id"], "COMPLETED")


async def export(
    client: httpx.AsyncClient, job_id: str, *targets: dict[str, str]
) -> dict[str, Any]:
    return await gql(
        client,
        f"mutation($id: ID!, $input: ExportVideoInput!) {{ exportVideo(jobId: $id, input: $input) {{ {EXPORT_FIELDS} }} }}",
        id=job_id,
        input={"targets": list(targets)},
    )


async def wait_for_exports(
    client: httpx.AsyncClient, job_id: str, count: int
) -> list[dict[str, Any]]:
    for _ in range(300):
        body = await gql(
            client, "query($id: ID!) { job(id: $id) { exports { status } } }", id=job_id
        )
        exports = body["data"]["job"]["exports"]
        if len(exports) == count and all(e["status"] in ("COMPLETED", "FAILED") for e in exports):
            body = await gql(
                client,
                f"query($id: ID!) {{ job(id: $id) {{ exports {{ {EXPORT_FIELDS} }} }} }}",
                id=job_id,
            )
            return list(body["data"]["job"]["exports"])
        await asyncio.sleep(0.1)
    raise AssertionError(f"exports not done: {exports}")


async def test_exports_for_every_common_placement(
    client: httpx.AsyncClient, runtime: Runtime, worker: Any, tmp_path: Path
) -> None:
    job = await completed_job(client, sceneCount=1, targetDuration=2.0)
    targets = [
        {"aspectRatio": "PORTRAIT_9_16", "resolution": "R720P", "container": "MP4"},
        {"aspectRatio": "SQUARE_1_1", "resolution": "R480P", "container": "GIF"},
        {"aspectRatio": "LANDSCAPE_16_9", "resolution": "R480P", "container": "WEBM", "fit": "PAD"},
    ]
    body = await export(client, job["id"], *targets)
    assert not body.get("errors"), body
    first_ids = [e["id"] for e in body["data"]["exportVideo"]]
    exports = await wait_for_exports(client, job["id"], 3)
    expected = {
        "MP4": ("video/mp4", export_size("9:16", "720p", "mp4"), "mov"),
        "GIF": ("image/gif", export_size("1:1", "480p", "gif"), "gif"),
        "WEBM": ("video/webm", export_size("16:9", "480p", "webm"), "webm"),
    }
    for item in exports:
        assert item["status"] == "COMPLETED", item
        content_type, (width, height), container = expected[item["container"]]
        response = await client.get(item["asset"]["url"])
        assert response.status_code == 200 and response.headers["content-type"].startswith(
            content_type
        )
        path = tmp_path / f"export.{item['container'].lower()}"
        path.write_bytes(response.content)
        info = await probe(path)
        assert (info.width, info.height) == (width, height)
        assert container in info.format_name
        assert abs(info.duration_seconds - 2.0) <= 0.3 or item["container"] == "GIF"

    again = await export(client, job["id"], targets[0])
    assert [e["id"] for e in again["data"]["exportVideo"]] == first_ids[
        :1
    ]  # answered by the first export


async def test_only_a_completed_job_can_be_exported(client: httpx.AsyncClient) -> None:
    job = await create_job(client)
    body = await export(client, job["id"], {"aspectRatio": "SQUARE_1_1"})
    assert error_code(body) == "CONFLICT"


@pytest.fixture
def provider(replicate_provider: ReplicateProvider) -> ReplicateProvider:
    """This module's pipeline runs against the fake Replicate (tests/jobs/conftest.py)."""
    return replicate_provider


async def frames(path: Path, runtime: Runtime) -> list[bytes]:
    """One decoded luma checksum per frame, to compare two videos frame by frame."""
    from reelforge.media.ffmpeg import ffmpeg_exe

    process = await asyncio.create_subprocess_exec(
        ffmpeg_exe(),
        "-v",
        "error",
        "-i",
        str(path),
        "-map",
        "0:v:0",
        "-f",
        "framemd5",
        "-",
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    return [
        line.split(b",")[-1].strip()
        for line in out.splitlines()
        if line and not line.startswith(b"#")
    ]


async def test_refining_one_scene_re_renders_only_that_scene(
    client: httpx.AsyncClient, runtime: Runtime, worker: Any, fake: FakeReplicate, tmp_path: Path
) -> None:
    job = await completed_job(client, sceneCount=3, targetDuration=3.0)
    first_video = tmp_path / "first.mp4"
    first_video.write_bytes((await client.get(job["video"]["url"])).content)
    images, videos = fake.kind_count("image"), fake.kind_count("video")

    body = await gql(
        client,
        f"mutation($id: ID!, $i: RefineSceneInput!) {{ refineScene(jobId: $id, sceneIndex: 1, input: $i) {{ {JOB_FIELDS} }} }}",
        id=job["id"],
        i={"imagePrompt": "a bright yellow lemon on a blue table"},
    )
    refined = body["data"]["refineScene"]
    assert (
        refined["approved"] is False
        and refined["storyboardVersion"] == job["storyboardVersion"] + 1
    )
    ready = await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE")
    assert (
        error_code(await mutate(client, "renderVideo", job["id"])) == "FORBIDDEN"
    )  # approval needed again
    one_clip = ready["estimatedCost"]
    assert one_clip == pytest.approx(job["estimatedCost"] / 3)  # only scene 1 will be paid for
    assert "scene_refined" in [e["type"] for e in ready["events"]]

    assert not (await mutate(client, "approveStoryboard", job["id"])).get("errors")
    assert not (await mutate(client, "renderVideo", job["id"])).get("errors")
    done = await wait_for_status(client, job["id"], "COMPLETED")
    assert (fake.kind_count("image") - images, fake.kind_count("video") - videos) == (1, 1)

    second_video = tmp_path / "second.mp4"
    second_video.write_bytes((await client.get(done["video"]["url"])).content)
    before, after = await frames(first_video, runtime), await frames(second_video, runtime)
    assert len(before) == len(after) == 3 * 24
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert changed and min(changed) >= 1 * 24 and max(changed) < 2 * 24  # only scene 1's second


async def test_refine_is_refused_while_rendering(client: httpx.AsyncClient) -> None:
    job = await create_job(client)
    body = await gql(
        client,
        'mutation($id: ID!) { refineScene(jobId: $id, sceneIndex: 0, input: {imagePrompt: "x"}) { id } }',
        id=job["id"],
    )
    assert error_code(body) == "CONFLICT"
