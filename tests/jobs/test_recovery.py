"""Work left behind by a worker that died (SIGKILL) is taken back: by the sweep within a
minute, and at once by retryJob. A task a live worker runs is never taken from it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from arq.constants import in_progress_key_prefix

from reelforge.jobs import recovery
from reelforge.jobs.repository import JobChange
from reelforge.jobs.tasks import sweep_stuck_jobs
from reelforge.jobs.worker import build_worker, stop_in_process_worker
from reelforge.models import JobStatus
from reelforge.runtime import Runtime
from tests.helpers import create_job, mutate, wait_for_status


@asynccontextmanager
async def running_worker(runtime: Runtime) -> AsyncIterator[None]:
    worker = build_worker(
        runtime.settings, runtime.redis_url, runtime=runtime, handle_signals=False
    )
    task = asyncio.create_task(worker.async_run())
    try:
        yield
    finally:
        await stop_in_process_worker(worker, task)


async def claimed_by_a_dead_worker(runtime: Runtime, key: str, seconds_ago: float = 90) -> None:
    """What a SIGKILLed worker leaves: arq's in-progress mark (2 h), and no heartbeat."""
    ttl = recovery.IN_PROGRESS_TTL - timedelta(seconds=seconds_ago)
    await runtime.queue.psetex(in_progress_key_prefix + key, int(ttl.total_seconds() * 1000), b"1")


async def approved_job(runtime: Runtime, client: httpx.AsyncClient) -> str:
    async with running_worker(runtime):
        job = await create_job(client, sceneCount=1)
        await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE")
        assert not (await mutate(client, "approveStoryboard", job["id"])).get("errors")
    return str(job["id"])


async def test_a_render_left_by_a_killed_worker_is_taken_back_by_the_sweep(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    job_id = await approved_job(runtime, client)
    assert not (await mutate(client, "renderVideo", job_id)).get("errors")  # queued, no worker
    await claimed_by_a_dead_worker(runtime, f"render:{job_id}")
    async with running_worker(runtime):  # its start-up sweep already looks
        await sweep_stuck_jobs({"runtime": runtime})
        done = await wait_for_status(client, job_id, "COMPLETED", timeout=60)
    assert done["video"] is not None


async def test_retry_runs_a_failed_job_whose_task_a_dead_worker_still_holds(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    job_id = await approved_job(runtime, client)
    assert not (await mutate(client, "renderVideo", job_id)).get("errors")
    await claimed_by_a_dead_worker(runtime, f"render:{job_id}")
    async with runtime.unit() as unit:
        repo = runtime.jobs(unit)
        job = await repo.get(job_id, client_id=None)
        await repo.transition(
            job, JobStatus.FAILED, error_message="worker lost", change=JobChange(event="failed")
        )
    async with running_worker(runtime):
        assert not (await mutate(client, "retryJob", job_id)).get("errors")
        await wait_for_status(client, job_id, "COMPLETED", timeout=60)


async def test_a_task_whose_worker_heartbeats_is_left_alone(runtime: Runtime) -> None:
    key = "render:still-running"
    enqueued = []

    async def enqueue() -> bool:
        enqueued.append(key)
        return False  # arq refuses: the key is held

    await claimed_by_a_dead_worker(runtime, key)
    await recovery.heartbeat(runtime.queue, "w1", [key], ttl=timedelta(seconds=30), info="{}")
    outcome = await recovery.ensure_queued(runtime.queue, key, enqueue, grace=timedelta(seconds=30))
    assert outcome == "running"
    assert await runtime.queue.exists(in_progress_key_prefix + key)
    # A claim younger than the heartbeat lease is not an orphan yet either.
    await runtime.queue.delete(recovery.owner_key(key))
    await claimed_by_a_dead_worker(runtime, key, seconds_ago=5)
    assert (
        await recovery.ensure_queued(runtime.queue, key, enqueue, grace=timedelta(seconds=30))
        == "running"
    )
