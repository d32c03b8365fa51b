"""The pipeline against the fake Replicate: retries, failures, cancel, resume, costs."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from reelforge.config import Settings
from reelforge.jobs.render import render
from reelforge.jobs.repository import JobRepository
from reelforge.jobs.storyboard import generate_storyboard
from reelforge.models import PredictionStatus
from reelforge.providers.base import PredictionKind
from reelforge.providers.catalog import DEFAULT_CATALOG
from reelforge.providers.replicate import ReplicateProvider
from reelforge.runtime import Runtime
from tests.fakes.replicate import FakeReplicate
from tests.helpers import create_job, error_code, gql, job_run, mutate, wait_for_status


@pytest.fixture
def provider(replicate_provider: ReplicateProvider) -> ReplicateProvider:
    """This module's pipeline runs against the fake Replicate (tests/jobs/conftest.py)."""
    return replicate_provider


async def storyboard(client: httpx.AsyncClient, **input: Any) -> dict[str, Any]:
    job = await create_job(client, **input)
    return await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE")


async def approve_and_render(client: httpx.AsyncClient, job_id: str) -> None:
    assert not (await mutate(client, "approveStoryboard", job_id)).get("errors")
    body = await mutate(client, "renderVideo", job_id)
    assert not body.get("errors"), body


async def test_costs_are_estimated_and_recorded_from_the_price_table(
    client: httpx.AsyncClient, worker: Any, fake: FakeReplicate
) -> None:
    job = await storyboard(client, sceneCount=2, targetDuration=2.0)
    video = DEFAULT_CATALOG.spec(PredictionKind.VIDEO)
    # From the price table's figures, not from the estimate function under test.
    per_clip = video.price_per_output + video.price_per_output_second * video.output_duration(1.0)
    expected_estimate = 2 * per_clip
    assert expected_estimate > 0
    assert job["estimatedCost"] == pytest.approx(expected_estimate)
    storyboard_cost = job["actualCost"]
    assert storyboard_cost > 0  # plan + two images were paid for
    await approve_and_render(client, job["id"])
    done = await wait_for_status(client, job["id"], "COMPLETED")
    assert done["actualCost"] == pytest.approx(storyboard_cost + expected_estimate, rel=1e-6)
    assert fake.kind_count("video") == 2 and video.model in [ref for ref, _ in fake.create_calls]


async def test_a_scene_that_fails_once_succeeds_on_retry(
    client: httpx.AsyncClient, worker: Any, fake: FakeReplicate
) -> None:
    job = await storyboard(client)
    fake.fail_next("video", 1, error="CUDA out of memory")
    await approve_and_render(client, job["id"])
    done = await wait_for_status(client, job["id"], "COMPLETED")
    assert done["retryCount"] == 1
    assert fake.kind_count("video") == 3  # two scenes, one retried
    assert "prediction_retry" in [e["type"] for e in done["events"]]


async def test_a_scene_that_fails_three_times_fails_the_job_clearly(
    client: httpx.AsyncClient, worker: Any, fake: FakeReplicate
) -> None:
    job = await storyboard(client, sceneCount=1, targetDuration=2.0)
    fake.fail_next("video", 3, error="NSFW content detected")
    await approve_and_render(client, job["id"])
    failed = await wait_for_status(client, job["id"], "FAILED")
    assert "NSFW content detected" in failed["errorMessage"] and failed["errorMessage"].startswith(
        "render failed"
    )
    assert failed["retryCount"] == 2
    retried = (await mutate(client, "retryJob", job["id"]))["data"]["retryJob"]
    assert retried["status"] == "RENDERING"
    await wait_for_status(client, job["id"], "COMPLETED")


async def test_cancel_mid_render_cancels_in_flight_predictions(
    client: httpx.AsyncClient, worker: Any, fake: FakeReplicate
) -> None:
    job = await storyboard(client)
    fake.stick_next("video", 2)
    await approve_and_render(client, job["id"])
    for _ in range(200):
        if fake.kind_count("video") == 2:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    canceled = (await mutate(client, "cancelJob", job["id"]))["data"]["cancelJob"]
    assert canceled["status"] == "CANCELED"
    assert len(fake.cancel_calls) == 2
    final = await wait_for_status(client, job["id"], "CANCELED")
    assert final["actualCost"] > 0  # the storyboard it already paid for stays recorded


async def test_a_render_killed_halfway_resumes_without_paying_twice(
    client: httpx.AsyncClient, runtime: Runtime, fake: FakeReplicate
) -> None:
    job = await storyboard_without_worker(client, runtime)
    await approve_and_render(client, job["id"])
    fake.stick_next("video", 1)  # scene 1 hangs; scene 0 finishes
    task = asyncio.create_task(render(job_run(runtime, job["id"])))
    for _ in range(400):
        async with runtime.unit() as unit:
            done = [
                p
                for p in await JobRepository(unit).predictions(job["id"])
                if p.kind == "video" and p.status == PredictionStatus.SUCCEEDED.value
            ]
        if done and fake.kind_count("video") == 2:
            break
        await asyncio.sleep(0.05)
    task.cancel()  # the worker dies mid-render
    await asyncio.gather(task, return_exceptions=True)
    assert fake.release_stuck() == 1  # the hung prediction finishes at the provider meanwhile
    await render(job_run(runtime, job["id"]))
    assert fake.kind_count("video") == 2  # no second prediction for either scene
    final = await mutate(client, "cancelJob", job["id"])
    assert error_code(final) == "CONFLICT"  # it completed


async def storyboard_without_worker(client: httpx.AsyncClient, runtime: Runtime) -> dict[str, Any]:
    job = await create_job(client)
    await generate_storyboard(job_run(runtime, job["id"]))
    return await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE")


async def test_render_over_the_daily_budget_is_refused_before_queueing(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    job = await storyboard_without_worker(client, runtime)
    runtime.settings = settings.model_copy(
        update={"daily_budget_dollars": job["actualCost"] + job["estimatedCost"] / 2}
    )
    assert not (await mutate(client, "approveStoryboard", job["id"])).get("errors")
    body = await mutate(client, "renderVideo", job["id"])
    assert error_code(body) == "BUDGET_EXCEEDED"
    assert (await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE"))[
        "status"
    ] == "STORYBOARD_COMPLETE"
    assert not await runtime.redis.exists(f"arq:job:render:{job['id']}")  # nothing was queued
    viewer = (await gql(client, "{ viewer { spendToday dailyBudget budgetRemaining } }"))["data"][
        "viewer"
    ]
    assert viewer["spendToday"] == pytest.approx(job["actualCost"])
    assert viewer["budgetRemaining"] == pytest.approx(
        job["estimatedCost"] / 2
    )  # what the refusal saw
    assert body["errors"][0]["extensions"]["remaining"] == pytest.approx(
        viewer["budgetRemaining"], abs=1e-4
    )
