"""One unit of work per operation: a constant number of queries per page, no pool
exhaustion under concurrent load (HTTP and one websocket), connections returned by
cancelled operations, a coded answer when the pool is exhausted, and a cost limit."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import event, text
from websockets.typing import Subprotocol

from reelforge.app import create_app
from reelforge.config import Settings
from reelforge.db import UnitEnded, UnitOfWork
from reelforge.jobs.repository import JobRepository
from reelforge.jobs.scenes import Scene, dump_scenes
from reelforge.models import Asset, Export, Job, JobStatus
from reelforge.runtime import Runtime
from tests.conftest import make_token
from tests.helpers import create_job, error_code, gql, wait_for_status
from tests.live import live_server

DASHBOARD = """
query($first: Int!) {
  jobs(first: $first) {
    totalCount
    edges { node {
      id status
      scenes { index image { id url } clip { id } }
      thumbnail { id url }
      exports { id status asset { id } }
      events { type message }
    } }
  }
}
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The pool of the report: 5 + 10 connections, stalled by 15 parallel dashboards. The
    # wait allowed is generous: this shared 2-core test machine may run ~20 busy processes.
    return settings.model_copy(
        update={
            "database_pool_size": 5,
            "database_max_overflow": 10,
            "database_pool_timeout": timedelta(seconds=60),
        }
    )


# Jobs on each page of the load tests: the load is the 50 operations at once (they still
# press the pool to its overflow), not the size of each page.
LOAD_JOBS = 3


async def seed_jobs(runtime: Runtime, count: int, *, scenes: int = 3) -> list[str]:
    """Completed-looking jobs with stills, a thumbnail, an export and events."""
    ids: list[str] = []
    async with runtime.unit() as unit:
        repo = JobRepository(unit)
        for n in range(count):
            job = await repo.create(
                Job(
                    client_id="acme",
                    user_id="alice",
                    prompt=f"brief {n}",
                    params={"scene_count": scenes, "target_duration": 3.0},
                    status=JobStatus.PENDING.value,
                ),
                actor="alice",
            )
            assets = [
                Asset(
                    client_id="acme",
                    job_id=job.id,
                    kind="image",
                    content_type="image/png",
                    size_bytes=1,
                    sha256="0" * 64,
                    storage_key=f"jobs/{job.id}/image/{i}.png",
                )
                for i in range(scenes + 1)
            ]
            unit.session.add_all(assets)
            await unit.session.flush()
            data = dump_scenes(
                [
                    Scene(i, f"scene {i}", "p", "m", 1.0, image_asset_id=assets[i].id)
                    for i in range(scenes)
                ]
            )
            await repo.update(job, storyboard_data=data, thumbnail_asset_id=assets[-1].id)
            await repo.add_exports(
                [Export(job_id=job.id, format={"aspect_ratio": "1:1"}, format_key=f"k{n}")]
            )
            ids.append(job.id)
    return ids


@contextmanager
def count_selects(runtime: Runtime) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", record)


@contextmanager
def peak_checkouts(runtime: Runtime) -> Iterator[list[int]]:
    """The most pooled connections held at once while the block runs: `peak[0]`."""
    peak = [0]

    def checkout(*_: Any) -> None:
        peak[0] = max(peak[0], runtime.engine.pool.checkedout())  # type: ignore[attr-defined]

    event.listen(runtime.engine.sync_engine, "checkout", checkout)
    try:
        yield peak
    finally:
        event.remove(runtime.engine.sync_engine, "checkout", checkout)


async def test_a_page_of_jobs_runs_a_constant_number_of_selects(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await seed_jobs(runtime, 6)
    counts = {}
    for first in (2, 6):
        with count_selects(runtime) as statements:
            body = await gql(client, DASHBOARD, first=first)
        assert not body.get("errors"), body
        edges = body["data"]["jobs"]["edges"]
        assert len(edges) == first
        assert all(len(e["node"]["scenes"]) == 3 for e in edges)
        assert all(e["node"]["scenes"][0]["image"]["url"] for e in edges)
        assert all(len(e["node"]["exports"]) == 1 for e in edges)
        counts[first] = len(statements)
    # count, page, assets, exports' assets, exports, events: whatever the page size.
    assert counts[2] == counts[6] <= 7, counts


@pytest.mark.timeout(300)
async def test_fifty_dashboards_and_a_create_job_all_succeed_over_http(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, worker: Any
) -> None:
    await seed_jobs(runtime, LOAD_JOBS, scenes=2)

    async def dashboard() -> None:
        body = await gql(client, DASHBOARD, first=LOAD_JOBS)
        assert not body.get("errors"), body["errors"]
        assert len(body["data"]["jobs"]["edges"]) == LOAD_JOBS

    with peak_checkouts(runtime) as peak:
        results = await asyncio.gather(
            *(dashboard() for _ in range(50)), create_job(client), return_exceptions=True
        )
    assert peak[0] > settings.database_pool_size, peak  # the load did reach the overflow
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, failures[:3]
    job = results[-1]
    assert isinstance(job, dict)
    await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE", timeout=90)
    assert runtime.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@pytest.mark.timeout(300)
async def test_fifty_operations_over_one_websocket_all_succeed(
    settings: Settings, runtime: Runtime, worker: Any
) -> None:
    await seed_jobs(runtime, LOAD_JOBS, scenes=2)
    app = create_app(settings, runtime=runtime)
    token = make_token(settings)
    create = (
        'mutation { createJob(input: {brief: "Lemonade for summer days", sceneCount: 2, '
        "targetDuration: 2.0, resolution: R480P}) { id } }"
    )
    async with (
        live_server(app) as host,
        websockets.connect(
            f"ws://{host}/graphql",
            subprotocols=[Subprotocol("graphql-transport-ws")],
        ) as ws,
    ):
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        answers: dict[str, dict[str, Any]] = {}
        completed: set[str] = set()
        with peak_checkouts(runtime) as peak:
            for n in range(50):
                payload = {"query": DASHBOARD, "variables": {"first": LOAD_JOBS}}
                await ws.send(json.dumps({"id": str(n), "type": "subscribe", "payload": payload}))
            await ws.send(
                json.dumps({"id": "create", "type": "subscribe", "payload": {"query": create}})
            )
            while len(completed) < 51:
                message = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if message["type"] == "next":
                    answers[message["id"]] = message["payload"]
                elif message["type"] == "complete":
                    completed.add(message["id"])
                elif message["type"] == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
                else:
                    raise AssertionError(message)
    assert peak[0] > settings.database_pool_size, peak  # the load did reach the overflow
    assert len(answers) == 51
    assert all(not a.get("errors") for a in answers.values()), [
        a["errors"] for a in answers.values() if a.get("errors")
    ][:3]
    assert all(
        len(a["data"]["jobs"]["edges"]) == LOAD_JOBS for n, a in answers.items() if n != "create"
    )
    job_id = answers["create"]["data"]["createJob"]["id"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://t",
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        await wait_for_status(client, job_id, "STORYBOARD_COMPLETE", timeout=90)


async def test_cancelled_operations_give_their_connections_back(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await seed_jobs(runtime, 10)
    rng = random.Random(13)
    in_flight = 0
    for _ in range(100):
        task = asyncio.ensure_future(gql(client, DASHBOARD, first=10))
        await asyncio.sleep(rng.uniform(0, 0.03))
        in_flight += not task.done()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert in_flight >= 50, in_flight  # most were cut off mid-operation, not after it
    for _ in range(50):  # a close in flight finishes on its own
        if runtime.engine.pool.checkedout() == 0:  # type: ignore[attr-defined]
            break
        await asyncio.sleep(0.02)
    assert runtime.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    body = await gql(client, DASHBOARD, first=10)
    assert not body.get("errors") and len(body["data"]["jobs"]["edges"]) == 10


async def test_sibling_fields_that_both_fail_answer_with_their_own_codes(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """The first NOT_FOUND cancels its sibling mid-statement; the connection that sibling
    leaves behind is dropped, not reported as an internal error (found by the fuzzer)."""
    query = "query($a: ID!, $b: ID!) { job(id: $a) { id } asset(id: $b) { id } }"
    for _ in range(3):
        body = await gql(client, query, a="no-such-job", b="no-such-asset")
        assert error_code(body) == "NOT_FOUND", body
    assert runtime.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    body = await gql(client, DASHBOARD, first=5)
    assert not body.get("errors")


async def test_an_operation_ends_after_the_batch_in_flight_and_no_batch_opens_a_session_after(
    runtime: Runtime,
) -> None:
    """A DataLoader batch runs in a task of its own: the operation's end waits for the
    statement it is running (closing under it gave INTERNAL_SERVER_ERROR under load), and a
    batch that starts later gets no session (nobody would close it)."""
    unit = UnitOfWork(runtime.sessions)
    async with unit.lock:  # a batch holding the session
        await unit.session.execute(text("SELECT 1"))
        ending = asyncio.ensure_future(unit.end(commit=False))
        await asyncio.sleep(0.05)
        assert not ending.done()
    await ending
    with pytest.raises(UnitEnded):
        unit.session  # noqa: B018
    assert runtime.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@pytest.fixture
async def tiny_pool_runtime(
    settings: Settings, redis_url: str, flushed_redis: Any
) -> AsyncIterator[Runtime]:
    settings = settings.model_copy(
        update={
            "database_pool_size": 1,
            "database_max_overflow": 0,
            "database_pool_timeout": timedelta(seconds=0.3),
        }
    )
    settings.video_storage_path.mkdir(parents=True, exist_ok=True)
    runtime = await Runtime.start(settings, redis_url=redis_url)
    yield runtime
    await runtime.aclose()


async def test_an_exhausted_pool_answers_service_unavailable_then_recovers(
    tiny_pool_runtime: Runtime,
) -> None:
    runtime = tiny_pool_runtime
    app = create_app(runtime.settings, runtime=runtime)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://t",
        headers={"Authorization": f"Bearer {make_token(runtime.settings)}"},
    ) as client:
        async with runtime.engine.connect() as held:  # the only connection, busy
            await held.execute(text("SELECT 1"))
            body = await gql(client, "{ jobs(first: 5) { totalCount } }")
            assert error_code(body) == "SERVICE_UNAVAILABLE"
            assert body["errors"][0]["extensions"]["retryAfter"] > 0
            ready = await client.get("/readyz")
            assert ready.status_code == 503
        body = await gql(client, "{ jobs(first: 5) { totalCount } }")
        assert body["data"]["jobs"]["totalCount"] == 0
        assert (await client.get("/readyz")).status_code == 200


ALIASED = (
    "{ "
    + " ".join(
        f"a{n}: jobs(first: 100) {{ edges {{ node {{ events {{ id }} scenes {{ image {{ id }} }} }} }} }}"
        for n in range(15)
    )
    + " }"
)


async def test_the_fifteen_alias_query_is_refused_and_the_service_answers_right_after(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await seed_jobs(runtime, 5)
    with count_selects(runtime) as statements:
        body = await gql(client, ALIASED)
    assert error_code(body) == "BAD_USER_INPUT"
    extensions = body["errors"][0]["extensions"]
    assert extensions["reason"] == "QUERY_TOO_COMPLEX"
    assert extensions["cost"] > extensions["maxCost"]
    assert statements == []  # refused before anything ran
    body = await gql(client, DASHBOARD, first=20)
    assert not body.get("errors") and len(body["data"]["jobs"]["edges"]) == 5


async def test_a_cost_given_through_a_variable_counts_too(client: httpx.AsyncClient) -> None:
    query = "query($n: Int!) { jobs(first: $n) { edges { node { events { id } } } } }"
    assert error_code(await gql(client, query, n=100)) is None
    many = (
        "query($n: Int!) { "
        + " ".join(
            f"a{i}: jobs(first: $n) {{ edges {{ node {{ events {{ id }} }} }} }}" for i in range(3)
        )
        + " }"
    )
    assert error_code(await gql(client, many, n=100)) == "BAD_USER_INPUT"
    # The same text is validated once, but its cost is counted with each operation's variables.
    assert error_code(await gql(client, many, n=2)) is None
    assert error_code(await gql(client, many, n=100)) == "BAD_USER_INPUT"
