"""Redis killed and started again empty: the standalone worker and the worker inside
`reelforge serve` carry on, and work queued before the restart is queued again from the
database and completes."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.harness import Cluster


@pytest.fixture
def cluster(tmp_path: Path, postgres_url: str | None, database_url: str) -> Iterator[Cluster]:
    # Real processes share one database: SQLite file (migrated by serve) or the CI PostgreSQL.
    c = Cluster(tmp_path, database_url=postgres_url and database_url, fake_latency=0.2)
    try:
        yield c
    finally:
        c.close()


def test_workers_survive_an_empty_redis_restart_and_lost_work_is_requeued(
    cluster: Cluster,
) -> None:
    cluster.start_valkey()
    cluster.start_fake()
    cluster.start_api(embedded_worker=True)
    cluster.start_worker()
    job_id = cluster.create_job(scenes=2)
    cluster.kill_valkey()  # SIGKILL: the queue, the in-progress marks, everything gone
    time.sleep(3)
    assert cluster.readyz() == 503
    cluster.start_valkey(empty=True)

    cluster.wait_status(job_id, "STORYBOARD_COMPLETE", timeout=90)
    cluster.mutate("approveStoryboard", job_id)
    cluster.mutate("renderVideo", job_id)
    done = cluster.wait_status(job_id, "COMPLETED", "FAILED", timeout=90)
    assert done["status"] == "COMPLETED", done

    assert cluster.api is not None and cluster.api.poll() is None, "serve died"
    assert all(w is not None and w.poll() is None for w in cluster.workers), "a worker exited"
    deadline = time.monotonic() + 30
    while cluster.readyz() != 200:
        assert time.monotonic() < deadline, "readyz never recovered"
        time.sleep(0.5)
    # A second job after the restart runs too (both workers poll the new Redis).
    second = cluster.create_job(scenes=1)
    cluster.wait_status(second, "STORYBOARD_COMPLETE", timeout=60)
    creates = cluster.creates()
    assert creates["image"] == 3, creates  # 2 + 1 stills: nothing paid twice


def test_a_job_queued_before_redis_lost_its_data_is_queued_again_from_the_database(
    cluster: Cluster,
) -> None:
    cluster.start_valkey()
    cluster.start_fake()
    cluster.start_api(embedded_worker=False)
    index = cluster.start_worker()
    worker = cluster.workers[index]
    assert worker is not None
    time.sleep(2)  # the worker is up and polling
    worker.send_signal(signal.SIGSTOP)  # nobody takes the task: it only sits in the queue
    try:
        job_id = cluster.create_job(scenes=1)
        cluster.kill_valkey()
        cluster.start_valkey(empty=True)  # the queued task is gone; the database still has it
    finally:
        worker.send_signal(signal.SIGCONT)
    started = time.monotonic()
    cluster.wait_status(job_id, "STORYBOARD_COMPLETE", timeout=120)
    assert time.monotonic() - started < 120
    assert '"sweep.queued"' in cluster.log_text("worker0")
    assert worker.poll() is None, "the worker exited"
