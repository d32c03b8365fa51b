"""The short chaos run of bench/chaos.py in the suite: jobs under rounds of SIGKILLs on their
workers, each round landing while a paid create waits for its answer, all complete; every
piece of work is paid once at the fake Replicate, and the jobs' actualCost adds up to what
it billed."""

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


@pytest.mark.timeout(300)
def test_jobs_under_sigkills_mid_create_complete_and_are_paid_once(cluster: Cluster) -> None:
    cluster.start_valkey()
    cluster.start_fake()
    cluster.start_api(embedded_worker=False)
    for _ in range(2):
        cluster.start_worker()
    # Three rounds: both workers SIGKILLed while a create is at the fake, unanswered. Then
    # no more kills, so the jobs finish however slow the machine (an endless kill loop
    # could outpace a worker's restart and its stitch, and livelock).
    report = drive(
        cluster,
        jobs=2,
        scenes=2,
        kill_every=(1.5, 3.0),
        timeout=240,
        seed=1,
        max_kills=6,
        at_creates=True,
    )
    print("\n".join(report.lines()))  # shown with -rP, and on a failure
    assert report.completed == 2, report.lines()
    assert report.kills == 6 and report.cut_creates == 3, report.lines()
    # Each cut create's answer was lost with its worker, and found again at the provider.
    assert report.adopted >= report.cut_creates, report.lines()
    assert report.paid_twice == 0, report.lines()
    # Each job: a plan, and per scene a still, a clip and a line of voice-over; one music bed.
    expected = {"plan": 2, "image": 4, "video": 4, "speech": 4, "music": 2}
    assert dict(report.creates) == expected, report.lines()
    assert report.actual_cost == pytest.approx(report.billed, abs=1e-6), report.lines()
