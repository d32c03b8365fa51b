"""The daily budget holds under concurrency: estimates are reserved atomically when a
storyboard or a render is accepted, and replaced by the actual cost when the work ends."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from reelforge.config import Settings
from reelforge.jobs.repository import JobRepository, budget_day
from reelforge.jobs.scenes import Scene, dump_scenes
from reelforge.models import Job, JobStatus
from reelforge.providers.base import PredictionKind, Provider
from reelforge.providers.preview import PreviewProvider
from reelforge.runtime import Runtime
from tests.helpers import error_code, gql, mutate

PRICES = {PredictionKind.PLAN: 0.01, PredictionKind.IMAGE: 0.01, PredictionKind.VIDEO: 0.1}


class PricedPreview(PreviewProvider):
    """The free preview provider with Replicate-like prices, so estimates are not zero."""

    def estimate_cost(
        self, kind: PredictionKind, *, duration: float = 0.0, aspect_ratio: str | None = None
    ) -> float:
        return PRICES[kind] * (duration / 5 if kind is PredictionKind.VIDEO else 1)


@pytest.fixture
def provider() -> Provider:
    return PricedPreview()


def with_budget(runtime: Runtime, settings: Settings, dollars: float) -> None:
    runtime.settings = settings.model_copy(update={"daily_budget_dollars": dollars})


async def approved_jobs(runtime: Runtime, count: int, estimate: float) -> list[str]:
    """Jobs whose storyboard is complete and approved, each render estimated at `estimate`."""
    ids = []
    async with runtime.unit() as unit:
        repo = JobRepository(unit)
        for n in range(count):
            job = await repo.create(
                Job(
                    client_id="acme",
                    user_id="alice",
                    prompt=f"brief {n}",
                    params={"scene_count": 1, "target_duration": 1.0},
                    status=JobStatus.STORYBOARD_COMPLETE.value,
                    approved=True,
                    estimated_cost=estimate,
                    storyboard_data=dump_scenes([Scene(0, "s", "p", "m", 1.0)]),
                ),
                actor="alice",
            )
            ids.append(job.id)
    return ids


async def test_twenty_concurrent_renders_against_a_budget_for_two_accept_exactly_two(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    with_budget(runtime, settings, 1.0)
    ids = await approved_jobs(runtime, 20, estimate=0.5)
    answers = await asyncio.gather(*(mutate(client, "renderVideo", i) for i in ids))
    codes = [error_code(a) for a in answers]
    assert codes.count(None) == 2, codes
    assert codes.count("BUDGET_EXCEEDED") == 18, codes
    viewer = (await gql(client, "{ viewer { budgetRemaining } }"))["data"]["viewer"]
    assert viewer["budgetRemaining"] == pytest.approx(0.0)
    async with runtime.unit() as unit:
        assert await JobRepository(unit).committed_on("acme", budget_day()) == pytest.approx(1.0)


async def test_create_job_stops_when_the_budget_is_reserved(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    # Each job's storyboard: a plan and 3 stills = $0.04; the budget fits 10 of them.
    with_budget(runtime, settings, 0.4)
    create = (
        'mutation { createJob(input: {brief: "Lemonade for summer", sceneCount: 3, '
        "targetDuration: 3.0}) { id estimatedCost } }"
    )
    answers: list[dict[str, Any]] = []
    for _ in range(60):  # no worker runs: every estimate stays reserved
        answers.append(await gql(client, create))
    codes = [error_code(a) for a in answers]
    assert codes[:10] == [None] * 10
    assert set(codes[10:]) == {"BUDGET_EXCEEDED"}
    refusal = answers[10]["errors"][0]["extensions"]
    assert refusal["remaining"] == pytest.approx(0.0, abs=1e-6)


async def test_a_canceled_job_gives_its_reservation_back(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    with_budget(runtime, settings, 1.0)
    (job_id,) = await approved_jobs(runtime, 1, estimate=0.8)
    assert error_code(await mutate(client, "renderVideo", job_id)) is None
    viewer = "{ viewer { budgetRemaining } }"
    assert (await gql(client, viewer))["data"]["viewer"]["budgetRemaining"] == pytest.approx(0.2)
    assert error_code(await mutate(client, "cancelJob", job_id)) is None
    assert (await gql(client, viewer))["data"]["viewer"]["budgetRemaining"] == pytest.approx(1.0)


async def test_a_finished_storyboard_replaces_its_reservation_by_what_it_cost(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, worker: Any
) -> None:
    from tests.helpers import create_job, wait_for_status

    with_budget(runtime, settings, 1.0)
    job = await create_job(client, sceneCount=2)
    viewer = "{ viewer { budgetRemaining spendToday } }"
    await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE")
    after = (await gql(client, viewer))["data"]["viewer"]
    # The preview provider charges nothing: the $0.03 reserved is given back in full.
    assert after["budgetRemaining"] == pytest.approx(1.0)
    assert after["spendToday"] == 0
