"""Graceful shutdown: SIGTERM never loses a task that is in flight."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reelforge.config import Settings
from reelforge.runtime import Runtime
from reelforge.startup import free_port
from tests.helpers import create_job, get_job, wait_for_status
from tests.processes import (
    graphql,
    http,
    minted_token,
    replicate_env,
    replicate_worker_env,
    start_serve,
    start_worker,
    wait_status,
)


@pytest.fixture(scope="module")
def slow_replicate() -> Iterator[str]:
    """The fake Replicate as its own server, answering every prediction after 1 s."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.replicate", "--port", str(port), "--latency", "1"],
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            http().get(f"{url}/v1/predictions", headers={"Authorization": "Bearer x"}, timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(10)


def wait_created(fake: str, after: int, timeout: float = 60) -> None:
    """Until the fake holds more than `after` predictions: a paid call is in flight there."""
    deadline = time.monotonic() + timeout
    while len(predictions(fake)) <= after:
        assert time.monotonic() < deadline, "no prediction reached the fake"
        time.sleep(0.05)


def predictions(fake: str) -> list[object]:
    page = http().get(f"{fake}/v1/predictions", headers={"Authorization": "Bearer x"}).json()
    results: list[object] = page["results"]
    return results


CREATE = 'mutation { createJob(input: {brief: "Trail shoes. Light and tough.", sceneCount: 1, targetDuration: 2, resolution: R480P}) { id } }'


def test_serve_stopped_mid_task_resumes_it_after_restart(
    tmp_path: Path, slow_replicate: str
) -> None:
    env = replicate_env(tmp_path, slow_replicate)
    token = minted_token(env)
    process, base = start_serve(tmp_path, env)
    before = len(predictions(slow_replicate))
    job_id = str(graphql(base, token, CREATE)["createJob"]["id"])  # type: ignore[index]
    wait_created(slow_replicate, before)  # the plan prediction is in flight at the fake
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr.decode()[-3000:]

    process, base = start_serve(tmp_path, env)  # same storage: SQLite file and Valkey AOF
    try:
        wait_status(base, token, job_id, "STORYBOARD_COMPLETE")
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)


async def test_worker_finishes_its_running_task_on_sigterm(
    client: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    tmp_path: Path,
    slow_replicate: str,
) -> None:
    # The API in this process; the worker is `reelforge worker`, on the same database and
    # Redis, calling the slow fake.
    env = replicate_worker_env(
        tmp_path, settings, runtime.redis_url, slow_replicate.removeprefix("http://")
    )
    log = tmp_path / "worker.log"
    worker = start_worker(env, log)
    try:
        before = len(predictions(slow_replicate))
        job = await create_job(client, sceneCount=1, targetDuration=2)
        await wait_for_status(client, job["id"], "GENERATING_STORYBOARD", timeout=120)
        wait_created(slow_replicate, before)  # its plan is in flight at the fake
        worker.send_signal(signal.SIGTERM)  # stops taking work, lets the running task finish
        worker.wait(60)
        assert worker.returncode == 0, log.read_text()[-3000:]
        assert (await get_job(client, job["id"]))["status"] == "STORYBOARD_COMPLETE"
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
