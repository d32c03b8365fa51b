"""At least once: a worker killed in the middle of an attempt loses nothing. The delivery
row is the source of truth; its claim runs out and another worker's sweep sends it again."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from reelforge.config import Settings
from reelforge.jobs.worker import build_worker, stop_in_process_worker
from reelforge.models import as_utc, utcnow
from reelforge.runtime import Runtime
from reelforge.startup import free_port
from reelforge.webhooks.repository import WebhookRepository
from tests.webhooks.conftest import Receiver, create_endpoint, wait_for_delivery
from tests.webhooks.test_delivery import canceled_job, verified


def worker_process(settings: Settings, redis_url: str, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DATABASE_URL=str(settings.database_url),
        REDIS_URL=redis_url,
        VIDEO_STORAGE_PATH=str(settings.video_storage_path),
        JWT_SECRET=settings.jwt_secret.get_secret_value(),
        PROVIDER="preview",
        WEBHOOK_TIMEOUT="1",  # a claim then lasts 2 s (the kill follows the hung request in ms)
        WORKER_METRICS_PORT=str(free_port()),
    )
    with (tmp_path / "worker.log").open("wb") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [sys.executable, "-m", "reelforge.cli", "worker"], env=env, stdout=log, stderr=log
        )


@pytest.mark.slow
async def test_a_worker_killed_mid_delivery_still_delivers(
    client: httpx.AsyncClient, runtime: Runtime, receiver: Receiver, tmp_path: Path
) -> None:
    receiver.answers = ["hang"]  # the first attempt never gets an answer
    endpoint = await create_endpoint(client, receiver.url, ["JOB_CANCELED"])
    process = worker_process(runtime.settings, runtime.redis_url, tmp_path)
    try:
        await canceled_job(client)
        (first,) = await receiver.wait_for(1, timeout=60)
    finally:
        process.kill()  # SIGKILL mid-attempt: no clean-up code runs
        process.wait(10)

    async with runtime.unit() as unit:
        (delivery,) = await WebhookRepository(unit.session).due_deliveries(
            utcnow().replace(year=2100), limit=10
        )
    assert delivery.status == "pending" and delivery.attempt_count == 0  # nothing recorded
    lease_ends = as_utc(delivery.next_attempt_at or utcnow())
    await asyncio.sleep(max(0.0, (lease_ends - utcnow()).total_seconds()) + 0.1)

    worker: Any = build_worker(
        runtime.settings, runtime.redis_url, runtime=runtime, handle_signals=False
    )
    task = asyncio.create_task(worker.async_run())  # its start-up sweep finds the delivery
    try:
        done = await wait_for_delivery(client, endpoint["id"], "SUCCEEDED", timeout=30)
    finally:
        await stop_in_process_worker(worker, task)
    second = receiver.received[1]
    assert second.webhook_id == first.webhook_id == done["id"]
    assert verified(endpoint["secret"], second)["type"] == "job.canceled"
    assert done["attemptCount"] == 1 and done["attempts"][0]["outcome"] == "delivered"
