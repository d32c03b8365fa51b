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

from reelforge.startup import free_port
from tests.processes import (
    cli_token,
    graphql,
    job_status,
    replicate_env,
    start_serve,
    wait_status,
)


@pytest.fixture
def slow_replicate() -> Iterator[str]:
    """The fake Replicate as its own server, answering every prediction after 2 s."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.replicate", "--port", str(port), "--latency", "2"],
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(f"{url}/v1/predictions", headers={"Authorization": "Bearer x"}, timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(10)


CREATE = 'mutation { createJob(input: {brief: "Trail shoes. Light and tough.", sceneCount: 1, targetDuration: 2, resolution: R480P}) { id } }'


def test_serve_stopped_mid_task_resumes_it_after_restart(
    tmp_path: Path, slow_replicate: str
) -> None:
    env = replicate_env(tmp_path, slow_replicate)
    token = cli_token(tmp_path)
    process, base = start_serve(tmp_path, env)
    job_id = str(graphql(base, token, CREATE)["createJob"]["id"])  # type: ignore[index]
    wait_status(base, token, job_id, "GENERATING_STORYBOARD")
    time.sleep(0.5)  # the plan prediction is in flight at the fake
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr.decode()[-3000:]

    process, base = start_serve(tmp_path, env)  # same storage: SQLite file and Valkey AOF
    try:
        wait_status(base, token, job_id, "STORYBOARD_COMPLETE")
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)


def test_worker_finishes_its_running_task_on_sigterm(
    tmp_path: Path, slow_replicate: str, redis_url: str
) -> None:
    import redis as sync_redis

    sync_redis.Redis.from_url(redis_url).flushdb()
    env = replicate_env(
        tmp_path,
        slow_replicate,
        REDIS_URL=redis_url,
        EMBEDDED_WORKER="false",
        WORKER_METRICS_PORT=str(free_port()),
    )
    token = cli_token(tmp_path)
    api, base = start_serve(tmp_path, env)
    worker = subprocess.Popen(
        [sys.executable, "-m", "reelforge.cli", "worker"], env=env, stderr=subprocess.PIPE
    )
    try:
        job_id = str(graphql(base, token, CREATE)["createJob"]["id"])  # type: ignore[index]
        wait_status(base, token, job_id, "GENERATING_STORYBOARD")
        time.sleep(0.5)
        worker.send_signal(signal.SIGTERM)  # stops taking work, lets the running task finish
        _, stderr = worker.communicate(timeout=60)
        assert worker.returncode == 0, stderr.decode()[-3000:]
        assert job_status(base, token, job_id) == "STORYBOARD_COMPLETE"
    finally:
        api.send_signal(signal.SIGTERM)
        api.communicate(timeout=60)
        if worker.poll() is None:
            worker.kill()
