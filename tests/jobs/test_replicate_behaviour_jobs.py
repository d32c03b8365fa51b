"""Whole jobs against the fake Replicate as it really behaves: a storm of body-only 429s,
`Prefer: wait` for the storyboard, and Replicate's deadline on every create."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reelforge.providers.replicate import ReplicateProvider
from tests.fakes.replicate import FakeReplicate
from tests.helpers import create_job, mutate, wait_for_status
from tests.jobs.conftest import MakeReplicateProvider
from tests.providers.conftest import RecordingSleep


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()  # throttle waits pass on the gate's virtual clock: free here


@pytest.fixture
def provider(
    make_replicate_provider: MakeReplicateProvider, sleep: RecordingSleep
) -> ReplicateProvider:
    return make_replicate_provider(prefer_wait=60, sleep=sleep)


async def render(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    assert not (await mutate(client, "approveStoryboard", job_id)).get("errors")
    body = await mutate(client, "renderVideo", job_id)
    assert not body.get("errors"), body
    return await wait_for_status(client, job_id, "COMPLETED")


async def test_a_storm_of_12_throttled_creates_without_retry_after_still_completes_the_job(
    client: httpx.AsyncClient, worker: Any, fake: FakeReplicate, sleep: RecordingSleep
) -> None:
    fake.rate_limit_next(12, retry_after=None, method="POST", resets_in=3)

    job = await create_job(client, sceneCount=2)
    await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE")
    done = await render(client, job["id"])

    assert done["status"] == "COMPLETED"
    assert fake.kind_count("plan") == 1
    assert fake.kind_count("image") == 2
    assert fake.kind_count("video") == 2
    assert done["retryCount"] == 0  # throttling is waited out, not a failed prediction
    assert any(round(d, 1) == 3.0 for d in sleep.delays)


async def test_a_storyboard_with_prefer_wait_needs_no_poll_and_every_create_has_a_deadline(
    client: httpx.AsyncClient, worker: Any, fake: FakeReplicate
) -> None:
    job = await create_job(client, sceneCount=2)
    await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE")

    assert fake.get_calls == []  # plan and stills answered in their creates
    assert [h.get("prefer") for h in fake.create_headers] == ["wait=60"] * 3
    assert all(h["cancel-after"] for h in fake.create_headers)
