"""The short chaos run of bench/chaos.py in the suite: a job under rounds of SIGKILLs on its
workers, each round landing while a paid create waits for its answer, completes; every
piece of work is paid once at the fake Replicate, and the job's actualCost adds up to what
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
        # A killed worker's lease lapses in 2 s and the next sweep (every second) takes its
        # task back: each round of kills costs the least idle time.
        heartbeat_ttl=2.0,
        sweep_interval=1,
    )
    try:
        yield c
    finally:
        c.close()


@pytest.mark.timeout(300)
def test_jobs_under_sigkills_mid_create_complete_and_are_paid_once(cluster: Cluster) -> None:
    cluster.start(embedded_worker=False, workers=2)
    # Three rounds: both workers SIGKILLed while a create is at the fake, unanswered. Then
    # no more kills, so the job finishes however slow the machine (an endless kill loop
    # could outpace a worker's restart and its stitch, and livelock). One job of one scene
    # has three waves of creates (its plan; its still; its clip, voice-over and music), one
    # for each round: a round's pause (under 1 s) ends before the killed workers' leases
    # lapse (2 s), so it watches from before the next wave.
    report = drive(
        cluster,
        jobs=1,
        scenes=1,
        kill_every=(0.5, 1.0),
        timeout=240,
        seed=1,
        max_kills=6,
        at_creates=True,
        poll=0.1,  # one job to read
    )
    print("\n".join(report.lines()))  # shown with -rP, and on a failure
    assert report.completed == 1, report.lines()
    assert report.kills == 6 and report.cut_creates == 3, report.lines()
    # Each cut create's answer was lost with its worker, and found again at the provider.
    assert report.adopted >= report.cut_creates, report.lines()
    assert report.paid_twice == 0, report.lines()
    # The job: a plan, and per scene a still, a clip and a line of voice-over; one music bed.
    expected = {"plan": 1, "image": 1, "video": 1, "speech": 1, "music": 1}
    assert dict(report.creates) == expected, report.lines()
    assert report.actual_cost == pytest.approx(report.billed, abs=1e-6), report.lines()
