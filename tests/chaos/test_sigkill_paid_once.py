"""The short chaos run of bench/chaos.py in the suite: jobs under a SIGKILL loop on random
worker processes all complete, every piece of work is paid once at the fake Replicate, and
the jobs' actualCost adds up to what it billed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.chaos import drive
from tests.chaos.harness import Cluster


@pytest.fixture
def cluster(tmp_path: Path, postgres_url: str | None, database_url: str) -> Iterator[Cluster]:
    c = Cluster(
        tmp_path,
        database_url=postgres_url and database_url,
        fake_latency=0.3,
        fake_create_latency=0.8,  # kills land between a create and its recorded answer
    )
    try:
        yield c
    finally:
        c.close()


@pytest.mark.timeout(400)
def test_jobs_under_a_sigkill_loop_complete_and_are_paid_once(cluster: Cluster) -> None:
    cluster.start_valkey()
    cluster.start_fake()
    cluster.start_api(embedded_worker=False)
    for _ in range(2):
        cluster.start_worker()
    report = drive(cluster, jobs=2, scenes=2, kill_every=(1.5, 3.0), timeout=240, seed=1)
    assert report.kills >= 1
    assert report.completed == 2, report.lines()
    assert report.paid_twice == 0, report.lines()
    # Each job: a plan, and per scene a still, a clip and a line of voice-over; one music bed.
    expected = {"plan": 2, "image": 4, "video": 4, "speech": 4, "music": 2}
    assert dict(report.creates) == expected, report.lines()
    assert report.actual_cost == pytest.approx(report.billed, abs=1e-6), report.lines()
