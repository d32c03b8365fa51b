"""Small helpers for talking to the API the way a client does."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from reelforge.jobs.run import Limits, Run
from reelforge.media.ffmpeg import ffmpeg_exe
from reelforge.runtime import Runtime

JOB_FIELDS = """
id status stage progress approved approvedBy estimatedCost actualCost retryCount errorMessage
storyboardVersion
scenes { index description imagePrompt motionPrompt duration status image { id width height } clip { id } }
video { id url width height durationSeconds contentType }
thumbnail { id contentType }
events { type message actor sceneIndex }
"""


def job_run(runtime: Runtime, job_id: str, predictions: int = 8) -> Run:
    """A job's run as a worker makes it, for driving a stage directly in a test."""
    return Run(runtime, job_id, Limits(asyncio.Semaphore(predictions), asyncio.Semaphore(2)))


async def gql(
    client: httpx.AsyncClient, query: str, headers: dict[str, str] | None = None, **variables: Any
) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error_code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


async def create_job(client: httpx.AsyncClient, **input: Any) -> dict[str, Any]:
    input.setdefault("brief", "Fresh lemonade for hot summer days. Ice cold. Buy now.")
    input.setdefault("sceneCount", 2)
    input.setdefault("targetDuration", 2.0)
    input.setdefault("resolution", "R480P")
    # Jobs of tests that are not about sound and words stay silent and plain (and fast);
    # tests/jobs/test_soundtrack_pipeline.py renders with every default.
    input.setdefault("voice", None)
    input.setdefault("captions", "NONE")
    input.setdefault("music", "NONE")
    body = await gql(
        client,
        f"mutation($input: CreateJobInput!) {{ createJob(input: $input) {{ {JOB_FIELDS} }} }}",
        input=input,
    )
    assert not body.get("errors"), body
    job: dict[str, Any] = body["data"]["createJob"]
    return job


async def get_job(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    body = await gql(client, f"query($id: ID!) {{ job(id: $id) {{ {JOB_FIELDS} }} }}", id=job_id)
    assert not body.get("errors"), body
    job: dict[str, Any] = body["data"]["job"]
    return job


STATUS_QUERY = "query($id: ID!) { job(id: $id) { status errorMessage } }"


async def wait_for_status(
    client: httpx.AsyncClient, job_id: str, *statuses: str, timeout: float = 60
) -> dict[str, Any]:
    """Poll the job's status (a small query), then answer the whole job once it is there."""
    deadline = time.monotonic() + timeout
    while True:
        body = await gql(client, STATUS_QUERY, id=job_id)
        assert not body.get("errors"), body
        seen: dict[str, Any] = body["data"]["job"]
        if seen["status"] in statuses:
            job = await get_job(client, job_id)
            if job["status"] in statuses:
                return job
            seen = job  # it moved on meanwhile
        status = seen["status"]
        if status in ("FAILED", "CANCELED"):
            raise AssertionError(f"job ended {status}: {seen['errorMessage']}")
        if time.monotonic() > deadline:
            raise AssertionError(f"job still {status} after {timeout}s")
        await asyncio.sleep(0.1)


async def mutate(client: httpx.AsyncClient, name: str, job_id: str) -> dict[str, Any]:
    return await gql(
        client, f"mutation($id: ID!) {{ {name}(jobId: $id) {{ {JOB_FIELDS} }} }}", id=job_id
    )


def ffmpeg(*args: str) -> bytes:
    """Run the bundled FFmpeg quietly and return what it wrote to stdout."""
    return subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args],
        check=True,
        capture_output=True,
    ).stdout


async def download(client: httpx.AsyncClient, url: str, path: Path) -> Path:
    """GET `url` as the client does and keep the bytes at `path`."""
    response = await client.get(url)
    assert response.status_code == 200
    path.write_bytes(response.content)
    return path
