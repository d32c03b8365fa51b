"""Scale-out: the API and two `reelforge worker` processes on separate "machines" (each its
own VIDEO_STORAGE_PATH), sharing only the database (PostgreSQL under CI), Redis and an S3
bucket (SeaweedFS). A job with an uploaded asset goes through storyboard, render and a GIF
export; the video downloads through its URL with a Range request; no local folder holds
media afterwards."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reelforge.config import Settings
from reelforge.startup import free_port
from reelforge.storage.blobs import open_blob_store
from reelforge.storage.seaweed import EmbeddedSeaweed
from tests.conftest import make_token, s3_settings
from tests.helpers import ffmpeg
from tests.processes import wait_ready

pytestmark = pytest.mark.slow

MEDIA_SUFFIXES = {".mp4", ".jpg", ".png", ".gif", ".webm", ".mov"}
JOB = "id status videoUrl video { id url } exports { status container asset { id url } }"


def media_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p.suffix in MEDIA_SUFFIXES]


@pytest.fixture
def cluster(
    tmp_path: Path, settings: Settings, seaweed: EmbeddedSeaweed, redis_url: str, flushed_redis: Any
) -> Iterator[tuple[str, Settings, list[Path]]]:
    shared = s3_settings(settings, seaweed)
    assert shared.storage_url and shared.aws_secret_access_key
    common = {
        "ENV": "test",
        "PROVIDER": "preview",
        "JWT_SECRET": settings.jwt_secret.get_secret_value(),
        "DATABASE_URL": settings.resolved_database_url,
        "REDIS_URL": redis_url,
        "STORAGE_URL": shared.storage_url,
        "S3_ENDPOINT_URL": seaweed.endpoint_url,
        "AWS_ACCESS_KEY_ID": seaweed.access_key,
        "AWS_SECRET_ACCESS_KEY": seaweed.secret_key,
        "EMBEDDED_WORKER": "false",
        "LOG_LEVEL": "WARNING",
    }
    import os

    base_env = {k: v for k, v in os.environ.items() if k not in common}
    folders = [tmp_path / name for name in ("api", "worker-1", "worker-2")]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        port = free_port()
        api = subprocess.Popen(
            [sys.executable, "-m", "reelforge.cli", "serve", "--port", str(port)],
            env={**base_env, **common, "VIDEO_STORAGE_PATH": str(folders[0])},
            stderr=subprocess.PIPE,
        )
        processes.append(api)
        for folder in folders[1:]:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "reelforge.cli", "worker"],
                    env={
                        **base_env,
                        **common,
                        "VIDEO_STORAGE_PATH": str(folder),
                        "WORKER_METRICS_PORT": str(free_port()),
                    },
                    stderr=subprocess.PIPE,
                )
            )
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, api, timeout=180)
        yield base, shared, folders
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


def gql(client: httpx.Client, query: str, **variables: Any) -> dict[str, Any]:
    body = client.post("/graphql", json={"query": query, "variables": variables}).json()
    assert not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


def wait_job(client: httpx.Client, job_id: str, done: Any, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = gql(
            client, f"query($id: ID!) {{ job(id: $id) {{ {JOB} }} }}", id=job_id
        )["job"]
        if done(job):
            return job
        assert job["status"] != "FAILED", job
        assert time.monotonic() < deadline, job
        time.sleep(0.2)


def test_api_and_two_workers_share_only_db_redis_and_bucket(
    cluster: tuple[str, Settings, list[Path]], settings: Settings, tmp_path: Path
) -> None:
    base, shared, folders = cluster
    token = make_token(settings)
    still = tmp_path / "brand.png"
    ffmpeg("-f", "lavfi", "-i", "testsrc=s=320x240:d=1", "-frames:v", "1", str(still))
    with httpx.Client(
        base_url=base, headers={"authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        uploaded = client.post(
            "/api/v2/upload-asset",
            files={"file": ("brand.png", still.read_bytes(), "image/png")},
            headers={"apollo-require-preflight": "1"},
        )
        assert uploaded.status_code == 201, uploaded.text
        asset_id = uploaded.json()["id"]
        job_id = gql(
            client,
            "mutation($i: CreateJobInput!) { createJob(input: $i) { id } }",
            i={
                "brief": "Trail shoes. Light and tough.",
                "sceneCount": 1,  # tasks are per job: more scenes spread no more over the workers
                "targetDuration": 2,
                "resolution": "R480P",
                "assetIds": [asset_id],
                # storage, not sound: a silent job (tests/jobs/test_soundtrack_* cover sound)
                "voice": None,
                "captions": "NONE",
                "music": "NONE",
            },
        )["createJob"]["id"]
        wait_job(client, job_id, lambda j: j["status"] == "STORYBOARD_COMPLETE")
        gql(client, "mutation($id: ID!) { approveStoryboard(jobId: $id) { id } }", id=job_id)
        gql(client, "mutation($id: ID!) { renderVideo(jobId: $id) { id } }", id=job_id)
        job = wait_job(client, job_id, lambda j: j["status"] == "COMPLETED")
        gql(
            client,
            "mutation($id: ID!, $i: ExportVideoInput!) { exportVideo(jobId: $id, input: $i) { id } }",
            id=job_id,
            i={
                "targets": [
                    {"aspectRatio": "SQUARE_1_1", "resolution": "R480P", "container": "GIF"}
                ]
            },
        )
        job = wait_job(
            client, job_id, lambda j: j["exports"] and j["exports"][0]["status"] == "COMPLETED"
        )

        # The video through its URL, with a Range request: a redirect to the bucket.
        ranged = client.get(
            job["videoUrl"], headers={"range": "bytes=0-1023"}, follow_redirects=True
        )
        assert ranged.status_code == 206, ranged.text
        assert len(ranged.content) == 1024
        assert ranged.content[4:8] == b"ftyp"
        assert ranged.history and ranged.history[0].status_code == 307
        gif = client.get(job["exports"][0]["asset"]["url"], follow_redirects=True)
        assert gif.content[:6] in (b"GIF87a", b"GIF89a")

    # Every media file lives in the bucket; no machine's folder holds any.
    for folder in folders:
        assert media_files(folder) == [], folder

    import asyncio

    async def bucket_keys() -> list[str]:
        blobs = open_blob_store(shared)
        try:
            return [info.key async for info in blobs.list(f"jobs/{job_id}/")]
        finally:
            await blobs.aclose()

    keys = asyncio.run(bucket_keys())
    assert any("/video/" in k for k in keys)
    assert any("/export/" in k for k in keys)
