"""Per-user operation limits, counted in Redis: RATE_LIMITED with retryAfter, shown in
`viewer`, on HTTP and websockets alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from reelforge.app import create_app
from reelforge.config import Settings
from reelforge.runtime import Runtime
from tests.api.wsclient import PROTOCOLS, ws_operation
from tests.conftest import make_token
from tests.live import live_server

CREATE = "mutation($input: CreateJobInput!) { createJob(input: $input) { id } }"
INPUT = {"brief": "Fresh lemonade for hot days", "sceneCount": 1, "resolution": "R480P"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """One set of limits for the module (the runtime reads them); each test uses users of
    its own, so their windows are fresh."""
    return settings.model_copy(
        update={"operation_rate_limit": "12/minute", "create_job_rate_limit": "3/minute"}
    )


async def client_for(app: Any, settings: Settings, user: str = "alice") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {make_token(settings, user_id=user)}"},
    )


async def test_operations_over_the_limit_are_rate_limited_with_retry_after(
    settings: Settings, runtime: Runtime
) -> None:
    app = create_app(settings, runtime=runtime)
    async with (
        await client_for(app, settings) as alice,
        await client_for(app, settings, "bob") as bob,
    ):
        for _ in range(12):
            body = (await alice.post("/graphql", json={"query": "{ viewer { userId } }"})).json()
            assert "errors" not in body, body
        refused = await alice.post("/graphql", json={"query": "{ viewer { userId } }"})
        error = refused.json()["errors"][0]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert 1 <= error["extensions"]["retryAfter"] <= 60
        assert refused.json().get("data") is None
        # Another user of the same client has a budget of their own.
        other = (await bob.post("/graphql", json={"query": "{ viewer { userId } }"})).json()
        assert other["data"]["viewer"]["userId"] == "bob"


async def test_create_job_has_its_own_limit_counting_each_alias(
    settings: Settings, runtime: Runtime
) -> None:
    app = create_app(settings, runtime=runtime)
    async with await client_for(app, settings) as alice:
        two = "mutation($i: CreateJobInput!) { a: createJob(input: $i) { id } b: createJob(input: $i) { id } }"
        body = (await alice.post("/graphql", json={"query": two, "variables": {"i": INPUT}})).json()
        assert "errors" not in body, body
        body = (await alice.post("/graphql", json={"query": two, "variables": {"i": INPUT}})).json()
        assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        one = (
            await alice.post("/graphql", json={"query": CREATE, "variables": {"input": INPUT}})
        ).json()
        assert "errors" not in one, one
        body = (
            await alice.post("/graphql", json={"query": CREATE, "variables": {"input": INPUT}})
        ).json()
        assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        # Reading is not creating.
        listing = (await alice.post("/graphql", json={"query": "{ jobs { totalCount } }"})).json()
        assert listing["data"]["jobs"]["totalCount"] == 3


async def test_viewer_shows_what_is_left_of_each_limit(
    settings: Settings, runtime: Runtime
) -> None:
    app = create_app(settings, runtime=runtime)
    query = "{ viewer { operationRateLimit { limit remaining resetInSeconds } createJobRateLimit { limit remaining } } }"
    async with await client_for(app, settings) as alice:
        await alice.post("/graphql", json={"query": CREATE, "variables": {"input": INPUT}})
        viewer = (await alice.post("/graphql", json={"query": query})).json()["data"]["viewer"]
    assert viewer["operationRateLimit"]["limit"] == "12/minute"
    assert viewer["operationRateLimit"]["remaining"] == 10  # the createJob and this query
    assert viewer["createJobRateLimit"] == {"limit": "3/minute", "remaining": 2}


async def test_the_limit_is_shared_by_api_processes_through_redis(
    settings: Settings, runtime: Runtime, redis_url: str
) -> None:
    """Two apps with runtimes of their own (as two `reelforge serve` processes) share one
    window; bench/ratelimit.py does the same with real processes."""
    other = await Runtime.start(settings, redis_url=redis_url)
    try:
        first, second = create_app(settings, runtime=runtime), create_app(settings, runtime=other)
        async with (
            await client_for(first, settings, "carol") as a,
            await client_for(second, settings, "carol") as b,
        ):
            answers = []
            for c in (a, b) * 7:
                answers.append(
                    (await c.post("/graphql", json={"query": "{ viewer { userId } }"})).json()
                )
    finally:
        await other.aclose()
    codes = [(body.get("errors") or [{}])[0].get("extensions", {}).get("code") for body in answers]
    assert codes == [None] * 12 + ["RATE_LIMITED"] * 2


@pytest.fixture
async def limited_host(settings: Settings, runtime: Runtime) -> AsyncIterator[str]:
    async with live_server(create_app(settings, runtime=runtime)) as host:
        yield host


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_websocket_operations_are_limited_too(
    limited_host: str, settings: Settings, protocol: str
) -> None:
    token = make_token(settings, user_id=f"ws-{protocol}")
    answers = [
        await ws_operation(limited_host, token, "{ viewer { userId } }", protocol=protocol)
        for _ in range(13)
    ]
    assert [a.get("errors") is None for a in answers] == [True] * 12 + [False]
    assert answers[12]["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert answers[12]["errors"][0]["extensions"]["retryAfter"] >= 1
