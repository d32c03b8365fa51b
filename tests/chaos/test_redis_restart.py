"""Redis killed and started again empty: the standalone worker and the worker inside
`reelforge serve` carry on, and work queued before the restart is queued again from the
database and completes."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.chaos.harness import Cluster, wait_for

# The queue is under test, not the sound: no voice, captions or music to make.
SILENT: dict[str, Any] = {"voice": None, "captions": "NONE", "music": "NONE"}

# A worker ran into the outage: its loop waits for Redis, or was cut off and is restarting.
LOST_REDIS = ("worker.redis.unavailable", "worker.restarting")


@pytest.fixture
def cluster(tmp_path: Path, postgres_url: str | None, database_url: str) -> Iterator[Cluster]:
    # Real processes share one database: SQLite file (migrated by serve) or the CI PostgreSQL.
    # The sweep queues lost work again once the new Redis is one lease (2 s) old; it runs
    # every second.
    c = Cluster(
        tmp_path,
        database_url=postgres_url and database_url,
        fake_latency=0.2,
        heartbeat_ttl=2.0,
        sweep_interval=1,
    )
    try:
        yield c
    finally:
        c.close()


def test_workers_survive_an_empty_redis_restart_and_lost_work_is_requeued(
    cluster: Cluster,
) -> None:
    cluster.start(embedded_worker=True, workers=1)
    wait_for(lambda: cluster.logged("worker0", "worker.started"), "the worker never started")
    job_id = cluster.create_job(scenes=1, **SILENT)
    cluster.kill_valkey()  # SIGKILL: the queue, the in-progress marks, everything gone
    # Redis stays away until readiness says so and both workers (serve's, logging into
    # api.log, and the standalone one) have run into the outage.
    wait_for(lambda: cluster.readyz() == 503, "readyz never reported Redis down")
    for name in ("api", "worker0"):
        wait_for(partial(cluster.logged, name, *LOST_REDIS), f"{name} never ran into the outage")
    cluster.start_valkey(empty=True)

    cluster.wait_status(job_id, "STORYBOARD_COMPLETE", timeout=90)
    cluster.mutate("approveStoryboard", job_id)
    cluster.mutate("renderVideo", job_id)
    done = cluster.wait_status(job_id, "COMPLETED", "FAILED", timeout=90)
    assert done["status"] == "COMPLETED", done

    assert cluster.api is not None and cluster.api.poll() is None, "serve died"
    assert all(w is not None and w.poll() is None for w in cluster.workers), "a worker exited"
    wait_for(lambda: cluster.readyz() == 200, "readyz never recovered", timeout=30)
    # A second job after the restart runs too (both workers poll the new Redis).
    second = cluster.create_job(scenes=1, **SILENT)
    cluster.wait_status(second, "STORYBOARD_COMPLETE", timeout=60)
    creates = cluster.creates()
    assert creates["image"] == 2, creates  # a still for each: nothing paid twice


def test_a_job_queued_before_redis_lost_its_data_is_queued_again_from_the_database(
    cluster: Cluster,
) -> None:
    cluster.start(embedded_worker=False, workers=1)
    worker = cluster.workers[0]
    assert worker is not None
    # The worker is up and polling.
    wait_for(lambda: cluster.logged("worker0", "worker.started"), "the worker never started")
    worker.send_signal(signal.SIGSTOP)  # nobody takes the task: it only sits in the queue
    try:
        job_id = cluster.create_job(scenes=1, **SILENT)
        cluster.kill_valkey()
        cluster.start_valkey(empty=True)  # the queued task is gone; the database still has it
    finally:
        worker.send_signal(signal.SIGCONT)
    cluster.wait_status(job_id, "STORYBOARD_COMPLETE", timeout=120)
    assert cluster.logged("worker0", "sweep.queued")
    assert worker.poll() is None, "the worker exited"
