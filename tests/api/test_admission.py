"""Admission: at most OPERATION_CONCURRENCY operations run at once, turns go round the users
waiting, and a wait past OPERATION_QUEUE_TIMEOUT is answered SERVICE_UNAVAILABLE."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import httpx
import pytest
import websockets
from prometheus_client import REGISTRY
from websockets.typing import Subprotocol

from reelforge.admission import FairGate
from reelforge.app import create_app
from reelforge.config import Settings
from reelforge.errors import BUSY_RETRY_AFTER, ServiceUnavailable
from reelforge.runtime import Runtime
from tests.api.wsclient import PROTOCOLS, TRANSPORT_WS
from tests.conftest import make_token
from tests.helpers import error_code, gql
from tests.live import live_server

PAGE = "query($first: Int!) { jobs(first: $first) { totalCount edges { node { id } } } }"


def waiting() -> float:
    return REGISTRY.get_sample_value("graphql_operations_waiting") or 0.0


async def test_turns_go_round_the_waiting_keys_and_a_cancelled_waiter_passes_its_turn_on() -> None:
    gate = FairGate(1, timeout=10)
    order: list[str] = []
    release = asyncio.Event()

    async def run(key: str, name: str) -> None:
        async with gate.admit(key):
            order.append(name)
            await release.wait()

    first = asyncio.create_task(run("a", "a0"))
    await asyncio.sleep(0)
    tasks = {name: asyncio.create_task(run(name[0], name)) for name in ("a1", "a2", "a3")}
    await asyncio.sleep(0)
    tasks["b1"] = asyncio.create_task(run("b", "b1"))
    tasks["c1"] = asyncio.create_task(run("c", "c1"))
    await asyncio.sleep(0)
    assert gate.waiting == 5
    tasks["a2"].cancel()  # gives its place up while waiting
    release.set()
    await asyncio.gather(first, *tasks.values(), return_exceptions=True)
    assert order == ["a0", "a1", "b1", "c1", "a3"]
    assert gate.waiting == 0

    # The one slot is whole again: taken at once, and a second holder waits.
    async with gate.admit("d", timeout=1):
        with pytest.raises(ServiceUnavailable) as busy:
            async with gate.admit("e", timeout=0.01):
                pass
    assert busy.value.extensions["retryAfter"] == BUSY_RETRY_AFTER
    async with gate.admit("e", timeout=0.01):
        pass


async def test_a_waiter_cancelled_as_its_turn_came_hands_the_slot_on() -> None:
    gate = FairGate(1, timeout=10)
    entered: list[str] = []

    async def run(key: str) -> None:
        async with gate.admit(key):
            entered.append(key)

    held = gate.admit("a", timeout=1)
    await held.__aenter__()
    b = asyncio.create_task(run("b"))
    c = asyncio.create_task(run("c"))
    await asyncio.sleep(0)
    await held.__aexit__(None, None, None)  # the slot is handed to b, which has not run yet
    b.cancel()
    await asyncio.gather(b, c, return_exceptions=True)
    assert entered == ["c"]
    async with gate.admit("d", timeout=0.01):
        pass


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"operation_concurrency": 1})


async def test_another_users_query_runs_next_not_behind_a_users_queue(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    finished: list[str] = []

    async def page(who: str, headers: dict[str, str] | None = None) -> None:
        body = await gql(client, PAGE, headers=headers, first=5)
        assert not body.get("errors"), body["errors"]
        finished.append(who)

    alice = [asyncio.create_task(page("alice")) for _ in range(30)]
    async with asyncio.timeout(30):
        while waiting() < 10:  # alice's queries are queued, one runs
            await asyncio.sleep(0)
    queued = waiting()
    bob = {"Authorization": f"Bearer {make_token(settings, user_id='bob')}"}
    await page("bob", bob)
    await asyncio.gather(*alice)

    # First come, first served, bob's query would have run after the `queued` ones of
    # alice's; taking turns, it ran after at most a few of them.
    after_bob = len(finished) - finished.index("bob") - 1
    assert after_bob >= queued - 3, (finished, queued)
    assert waiting() == 0


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_users_operations_over_one_websocket_take_turns_with_another_users(
    settings: Settings, runtime: Runtime, protocol: str
) -> None:
    app = create_app(settings, runtime=runtime)
    finished: list[str] = []
    start = "subscribe" if protocol == TRANSPORT_WS else "start"
    async with (
        live_server(app) as host,
        websockets.connect(f"ws://{host}/graphql", subprotocols=[Subprotocol(protocol)]) as ws,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://testserver",
            headers={"Authorization": f"Bearer {make_token(settings, user_id='bob')}"},
        ) as bob,
    ):
        token = make_token(settings)
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"

        async def read_alices_answers() -> None:
            while finished.count("alice") < 30:
                message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if message["type"] in ("next", "data"):
                    assert not message["payload"].get("errors"), message
                    finished.append("alice")

        reader = asyncio.create_task(read_alices_answers())
        for n in range(30):
            payload = {"query": PAGE, "variables": {"first": 5}}
            await ws.send(json.dumps({"id": str(n), "type": start, "payload": payload}))
        async with asyncio.timeout(30):
            while waiting() < 10:
                await asyncio.sleep(0)
        queued = waiting()
        body = await gql(bob, PAGE, first=5)
        assert not body.get("errors"), body["errors"]
        finished.append("bob")
        await reader

    after_bob = len(finished) - finished.index("bob") - 1
    assert after_bob >= queued - 3, (finished, queued)


async def test_an_operation_that_waits_too_long_is_answered_busy_and_the_gate_recovers(
    settings: Settings, runtime: Runtime
) -> None:
    impatient = settings.model_copy(update={"operation_queue_timeout": timedelta(milliseconds=10)})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(impatient, runtime=runtime)),
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {make_token(settings)}"},
    ) as client:
        bodies = await asyncio.gather(*(gql(client, PAGE, first=5) for _ in range(30)))

        codes = [error_code(body) for body in bodies]
        assert codes.count("SERVICE_UNAVAILABLE") >= 1, codes  # 29 queued behind one slot
        assert set(codes) <= {None, "SERVICE_UNAVAILABLE"}, codes
        busy = next(body for body in bodies if error_code(body))
        assert busy["errors"][0]["extensions"]["retryAfter"] == BUSY_RETRY_AFTER
        assert waiting() == 0
        assert not (await gql(client, PAGE, first=5)).get("errors")
