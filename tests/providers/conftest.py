"""Fixtures for provider tests: the fake Replicate in-process and providers talking to it."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from reelforge.providers.replicate import ReplicateProvider
from tests.fakes.replicate import DEFAULT_TOKEN, FakeReplicate

FAKE_URL = "http://replicate.test"

MakeProvider = Callable[..., ReplicateProvider]


class RecordingSleep:
    """Stands in for asyncio.sleep in retries: records the delays, waits for nothing."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
async def fake() -> AsyncIterator[FakeReplicate]:
    server = FakeReplicate(latency=0.05)
    yield server
    await server.aclose()


@pytest.fixture
async def http(fake: FakeReplicate) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fake.app), base_url=FAKE_URL
    ) as client:
        yield client


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def make_provider(
    http: httpx.AsyncClient, sleep: RecordingSleep
) -> AsyncIterator[MakeProvider]:
    made: list[ReplicateProvider] = []

    def make(**overrides: Any) -> ReplicateProvider:
        options: dict[str, Any] = {
            "token": DEFAULT_TOKEN,
            "http": http,
            "base_url": FAKE_URL,
            "poll_interval": 0.02,
            "image_timeout": 10.0,
            "video_timeout": 20.0,
            "plan_timeout": 10.0,
            "prefer_wait": 0,  # tests of polling poll; `Prefer: wait` has its own tests
            "rng": random.Random(0),
        }
        options.update(overrides)
        options.setdefault("sleep", sleep)
        provider = ReplicateProvider(**options)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        await provider.aclose()
