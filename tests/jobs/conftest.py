"""The fake Replicate behind a real ReplicateProvider, for pipeline tests that count paid calls.
A module opts in by overriding its `provider` fixture to return `replicate_provider`."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import httpx
import pytest

from reelforge.providers.replicate import ReplicateProvider
from tests.fakes.replicate import DEFAULT_TOKEN, FakeReplicate


@pytest.fixture
async def fake() -> AsyncIterator[FakeReplicate]:
    server = FakeReplicate(latency=0.05, predict_time=2.0)
    yield server
    await server.aclose()


@pytest.fixture
async def replicate_provider(fake: FakeReplicate) -> AsyncIterator[ReplicateProvider]:
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fake.app), base_url="http://replicate.test"
    )
    provider = ReplicateProvider(
        token=DEFAULT_TOKEN,
        http=http,
        base_url="http://replicate.test",
        poll_interval=0.02,
        image_timeout=20,
        video_timeout=30,
        plan_timeout=20,
        rng=random.Random(0),
    )
    yield provider
    await provider.aclose()
    await http.aclose()
