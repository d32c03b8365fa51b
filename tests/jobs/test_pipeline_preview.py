"""The whole flow through the API with the preview provider and real FFmpeg."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from reelforge.media.ffmpeg import probe
from reelforge.media.formats import frame_size
from reelforge.runtime import Runtime
from tests.helpers import create_job, error_code, mutate, wait_for_status


async def test_brief_to_video_through_the_api(
    client: httpx.AsyncClient, runtime: Runtime, worker: Any
) -> None:
    job = await create_job(
        client, sceneCount=2, targetDuration=2.0, aspectRatio="PORTRAIT_9_16", resolution="R480P"
    )
    assert job["status"] == "PENDING"
    job = await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE")
    assert [s["index"] for s in job["scenes"]] == [0, 1]
    assert all(s["image"]["width"] == 480 and s["image"]["height"] == 854 for s in job["scenes"])
    assert job["estimatedCost"] == 0.0

    forbidden = await mutate(client, "renderVideo", job["id"])
    assert error_code(forbidden) == "FORBIDDEN"
    assert "approve" in forbidden["errors"][0]["message"].lower()

    approved = (await mutate(client, "approveStoryboard", job["id"]))["data"]["approveStoryboard"]
    assert approved["approved"] and approved["approvedBy"] == "alice"
    again = (await mutate(client, "approveStoryboard", job["id"]))["data"]["approveStoryboard"]
    assert again["approved"] and [e["type"] for e in again["events"]].count("approved") == 1

    rendering = (await mutate(client, "renderVideo", job["id"]))["data"]["renderVideo"]
    assert rendering["status"] == "RENDERING"
    done = await wait_for_status(client, job["id"], "COMPLETED")
    assert done["progress"] == 100
    assert (
        done["video"]["contentType"] == "video/mp4"
        and done["thumbnail"]["contentType"] == "image/jpeg"
    )

    response = await client.get(done["video"]["url"])
    assert response.status_code == 200
    path = Path(runtime.settings.video_storage_path) / "check.mp4"
    path.write_bytes(response.content)
    info = await probe(path)
    assert (info.width, info.height) == frame_size("9:16", "480p")
    assert abs(info.duration_seconds - sum(s["duration"] for s in done["scenes"])) <= 0.5
    assert info.video_codec == "h264" and info.audio_codec == "aac"
    assert response.content[4:8] == b"ftyp" and b"moov" in response.content[:4096]  # +faststart

    events = [e["type"] for e in done["events"]]
    for expected in (
        "created",
        "storyboard_complete",
        "approved",
        "render_started",
        "scene_rendered",
        "stitching",
        "completed",
    ):
        assert expected in events


async def test_cancel_a_pending_job(client: httpx.AsyncClient) -> None:
    job = await create_job(client)
    canceled = (await mutate(client, "cancelJob", job["id"]))["data"]["cancelJob"]
    assert canceled["status"] == "CANCELED"
    assert error_code(await mutate(client, "retryJob", job["id"])) == "CONFLICT"
    again = (await mutate(client, "cancelJob", job["id"]))["data"]["cancelJob"]
    assert again["status"] == "CANCELED"
