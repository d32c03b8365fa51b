"""A worker SIGKILLed right after paid calls succeeded, then restarted, completes the job
without a second paid prediction: the plan is read back from the ledger, a settled still
is reused, and a still that was running at the provider is resumed by its id."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import pytest

from reelforge.config import Settings
from reelforge.jobs.repository import JobRepository
from reelforge.models import PredictionStatus
from reelforge.runtime import Runtime
from tests.fakes.replicate import FakeReplicate
from tests.helpers import create_job, wait_for_status
from tests.live import live_server
from tests.processes import replicate_worker_env, start_worker


async def predictions_by_kind(runtime: Runtime, job_id: str) -> dict[str, list[str]]:
    async with runtime.unit() as unit:
        rows = await JobRepository(unit).predictions(job_id)
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row.kind, []).append(row.status)
    return found


@pytest.mark.timeout(300)  # two worker processes start; slow on a loaded machine
async def test_a_worker_killed_after_paid_calls_resumes_without_paying_again(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    fake = FakeReplicate(latency=0.05, predict_time=1.0)
    fake.stick_next("image", 1)  # scene 0's still keeps running at the provider
    async with live_server(fake.app) as host:
        worker_env = replicate_worker_env(
            tmp_path,
            settings,
            runtime.redis_url,
            host,
            # The sweep takes the dead worker's task back in seconds.
            SWEEP_INTERVAL="1",
            # Answer the stuck still's create at once (Prefer: wait would hold it 60 s).
            REPLICATE_PREFER_WAIT="0",
        )
        worker_log = tmp_path / "worker.log"
        job = await create_job(client, sceneCount=2)
        worker = start_worker(worker_env, worker_log)
        try:
            for _ in range(1200):
                seen = await predictions_by_kind(runtime, job["id"])
                if seen.get("plan") == [PredictionStatus.SUCCEEDED.value] and sorted(
                    seen.get("image", [])
                ) == [PredictionStatus.RUNNING.value, PredictionStatus.SUCCEEDED.value]:
                    break
                assert worker.poll() is None, worker_log.read_text()[-3000:]
                await asyncio.sleep(0.05)
            else:
                raise AssertionError(f"never got there: {seen}")
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(30)
        assert (fake.kind_count("plan"), fake.kind_count("image")) == (1, 2)

        # arq's in-progress marker outlives the killed worker; the restarted worker's sweep
        # finds no live lease behind it and queues the task again.
        assert fake.release_stuck() == 1  # the still finishes at the provider meanwhile
        worker = start_worker(worker_env, worker_log)
        try:
            await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE", timeout=120)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(60)
    await fake.aclose()
    assert (fake.kind_count("plan"), fake.kind_count("image")) == (1, 2)  # nothing paid twice
    seen = await predictions_by_kind(runtime, job["id"])
    assert seen == {"plan": ["succeeded"], "image": ["succeeded", "succeeded"]}
