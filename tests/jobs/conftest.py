"""The fake Replicate behind a real ReplicateProvider, for pipeline tests that count paid calls.
A module opts in by overriding its `provider` fixture to return `replicate_provider`."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from reelforge.providers.replicate import ReplicateProvider
from tests.fakes.replicate import DEFAULT_TOKEN, FakeReplicate
from tests.providers.conftest import FAKE_URL


@pytest.fixture
async def fake() -> AsyncIterator[FakeReplicate]:
    # Stills of 160x90 (16:9) and clips of them: every job's pictures are scaled to its own
    # frame anyway, and the fake's Ken Burns clips take half the CPU of clips at 320x180.
    server = FakeReplicate(latency=0.05, predict_time=2.0, short_side=90)
    yield server
    await server.aclose()


MakeReplicateProvider = Callable[..., ReplicateProvider]


@pytest.fixture
async def make_replicate_provider(fake: FakeReplicate) -> AsyncIterator[MakeReplicateProvider]:
    """Real ReplicateProviders on the in-process fake; keyword arguments override the
    test defaults."""
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url=FAKE_URL)
    made: list[ReplicateProvider] = []

    def make(**overrides: Any) -> ReplicateProvider:
        options: dict[str, Any] = {
            "token": DEFAULT_TOKEN,
            "http": http,
            "base_url": FAKE_URL,
            "poll_interval": 0.02,
            "image_timeout": 20,
            "video_timeout": 30,
            "plan_timeout": 20,
            "rng": random.Random(0),
            **overrides,
        }
        provider = ReplicateProvider(**options)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        await provider.aclose()
    await http.aclose()


@pytest.fixture
def replicate_provider(make_replicate_provider: MakeReplicateProvider) -> ReplicateProvider:
    return make_replicate_provider()
