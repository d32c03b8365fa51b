"""Live progress over GraphQL websockets, across processes and through a Redis restart."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.typing import Origin, Subprotocol

from reelforge.app import create_app
from reelforge.config import Settings
from reelforge.embedded import EmbeddedValkey
from reelforge.jobs.worker import build_worker, stop_in_process_worker
from reelforge.runtime import Runtime
from tests.conftest import make_token
from tests.helpers import create_job, mutate, wait_for_status
from tests.live import live_server, subscribe

STAGES = [
    "PENDING",
    "GENERATING_STORYBOARD",
    "STORYBOARD_COMPLETE",
    "RENDERING",
    "STITCHING",
    "COMPLETED",
]


async def drive_to_completion(client: httpx.AsyncClient, job_id: str) -> None:
    await wait_for_status(client, job_id, "STORYBOARD_COMPLETE")
    assert not (await mutate(client, "approveStoryboard", job_id)).get("errors")
    assert not (await mutate(client, "renderVideo", job_id)).get("errors")


async def collect(host: str, token: str, job_id: str, **kwargs: Any) -> list[dict[str, Any]]:
    return [event async for event in subscribe(host, token, job_id, **kwargs)]


async def test_a_subscriber_sees_every_step_live_over_either_protocol(
    app: Any, client: httpx.AsyncClient, settings: Settings, worker: Any
) -> None:
    """One subscriber per websocket protocol, on the same render (one render for both)."""
    protocols = ["graphql-transport-ws", "graphql-ws"]
    async with live_server(app) as host:
        job = await create_job(client)
        watchers = [
            asyncio.create_task(collect(host, make_token(settings), job["id"], protocol=protocol))
            for protocol in protocols
        ]
        await drive_to_completion(client, job["id"])
        heard = await asyncio.wait_for(asyncio.gather(*watchers), 60)
    for protocol, events in zip(protocols, heard, strict=True):
        assert events[0]["event"] == "snapshot", protocol
        assert events[-1]["status"] == "COMPLETED" and events[-1]["progress"] == 100, protocol
        statuses = [e["status"] for e in events]
        seen = [s for s in STAGES if s in statuses]
        assert seen == [s for s in STAGES if s != "PENDING"] or seen == STAGES, protocol
        run = [
            e["progress"] for e in events if e["status"] in ("RENDERING", "STITCHING", "COMPLETED")
        ]
        assert run == sorted(run), f"render progress must never go backwards ({protocol})"
        assert {e["sceneIndex"] for e in events if e["event"] == "scene_rendered"} == {0, 1}


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """A test may parametrize `settings` indirectly with updates of its own."""
    return settings.model_copy(update=getattr(request, "param", {}))


HEALTH_CHECK = 0.5  # seconds; PROGRESS_HEALTH_CHECK_INTERVAL is 5 by default


@pytest.mark.parametrize(
    "settings",
    [{"progress_health_check_interval": timedelta(seconds=HEALTH_CHECK)}],
    indirect=True,
    ids=["health_check_0.5s"],
)
async def test_a_lone_subscriber_after_an_idle_health_check_interval_hears_every_update(
    app: Any, client: httpx.AsyncClient, settings: Settings, runtime: Runtime
) -> None:
    """The bus's link idles past its health check, then one subscriber alone follows a
    render: the SUBSCRIBE that waits on the PING once left it silent after the snapshot.
    The worker has a runtime of its own, as in another process: one sharing the API's would
    keep the link subscribed (webhook wake-ups), and SUBSCRIBE would not PING first."""
    link = runtime.bus.backend._conn.connection_pool.connection_kwargs
    assert link["health_check_interval"] == HEALTH_CHECK  # the idle below outlasts it
    worker = build_worker(settings, runtime.redis_url, handle_signals=False)
    worker_task = asyncio.create_task(worker.async_run())
    try:
        async with live_server(app) as host:
            job = await create_job(client)
            await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE")
            await asyncio.sleep(2 * HEALTH_CHECK)  # nothing is published or subscribed
            assert not runtime.bus.backend._pubsub.subscribed  # so SUBSCRIBE will PING
            events: list[dict[str, Any]] = []
            subscribed = asyncio.Event()

            async def watch() -> None:
                async for event in subscribe(host, make_token(settings), job["id"]):
                    events.append(event)
                    subscribed.set()  # the snapshot is read once SUBSCRIBE is done

            watcher = asyncio.create_task(watch())
            await asyncio.wait_for(subscribed.wait(), 30)  # subscribed before the render
            assert not (await mutate(client, "approveStoryboard", job["id"])).get("errors")
            assert not (await mutate(client, "renderVideo", job["id"])).get("errors")
            await asyncio.wait_for(watcher, 60)
    finally:
        await stop_in_process_worker(worker, worker_task)
    statuses = [e["status"] for e in events]
    assert statuses[0] == "STORYBOARD_COMPLETE"
    assert {"RENDERING", "STITCHING", "COMPLETED"} <= set(statuses)
    assert events[-1]["status"] == "COMPLETED" and events[-1]["progress"] == 100
    assert {e["sceneIndex"] for e in events if e["event"] == "scene_rendered"} == {0, 1}


async def test_an_unauthorised_connection_is_refused(app: Any) -> None:
    async with live_server(app) as host:
        async with websockets.connect(
            f"ws://{host}/graphql", subprotocols=[Subprotocol("graphql-transport-ws")]
        ) as ws:
            await ws.send(
                json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer nope"}})
            )
            with pytest.raises(websockets.ConnectionClosed) as info:
                await asyncio.wait_for(ws.recv(), 10)
        assert info.value.rcvd is not None and info.value.rcvd.code == 4401
        assert "invalid token" in info.value.rcvd.reason


async def test_another_clients_job_cannot_be_watched(
    app: Any, client: httpx.AsyncClient, settings: Settings
) -> None:
    job = await create_job(client)
    async with live_server(app) as host:
        with pytest.raises(AssertionError, match="NOT_FOUND"):
            await collect(host, make_token(settings, client_id="globex"), job["id"])


async def test_a_worker_in_another_process_publishes_to_the_api(
    app: Any, client: httpx.AsyncClient, settings: Settings, runtime: Runtime
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": settings.resolved_database_url,
        "REDIS_URL": runtime.redis_url,
        "VIDEO_STORAGE_PATH": str(settings.video_storage_path),
        "PROVIDER": "preview",
        "WORKER_METRICS_PORT": "0",
        "LOG_FORMAT": "json",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "reelforge.cli", "worker"], env=env, stderr=subprocess.PIPE
    )
    try:
        async with live_server(app) as host:
            job = await create_job(client, sceneCount=1)  # the scenes are not what is tested
            events_task = asyncio.create_task(collect(host, make_token(settings), job["id"]))
            await drive_to_completion(client, job["id"])
            events = await asyncio.wait_for(events_task, 90)
        assert events[-1]["status"] == "COMPLETED"
    finally:
        worker.terminate()
        _, stderr = worker.communicate(timeout=30)
    assert worker.returncode == 0, stderr.decode()[-2000:]
    lines = [json.loads(line) for line in stderr.decode().splitlines() if line.startswith("{")]
    assert any(
        line.get("job_id") == job["id"] and line["event"] == "task.finished" for line in lines
    )


async def test_a_redis_restart_mid_job_still_delivers_the_final_state(
    settings: Settings, tmp_path: Path
) -> None:
    from reelforge.jobs.storyboard import generate_storyboard
    from reelforge.startup import free_port
    from tests.helpers import job_run

    valkey = EmbeddedValkey(tmp_path / "restartable", port=free_port())
    url = valkey.start()
    settings = settings.model_copy(update={"redis_url": url})
    runtime = await Runtime.start(settings, redis_url=url)
    app = create_app(settings, runtime=runtime)
    token = make_token(settings)
    try:
        async with (
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://t",
                headers={"Authorization": f"Bearer {token}"},
            ) as client,
            live_server(app) as host,
        ):
            job = await create_job(client)
            events: list[dict[str, Any]] = []

            async def watch() -> None:
                async for event in subscribe(host, token, job["id"]):
                    events.append(event)

            watcher = asyncio.create_task(watch())
            await asyncio.sleep(0.5)
            assert events and events[0]["status"] == "PENDING"
            valkey.stop()  # the pub/sub link drops; the job finishes while Redis is away
            await asyncio.sleep(0.3)
            await generate_storyboard(job_run(runtime, job["id"], predictions=4))
            valkey.start()
            # The storyboard state was published while Redis was down: the resync re-reads it.
            for _ in range(150):
                if any(e["status"] == "STORYBOARD_COMPLETE" for e in events):
                    break
                await asyncio.sleep(0.1)
            assert any(e["status"] == "STORYBOARD_COMPLETE" for e in events)
            canceled = await mutate(client, "cancelJob", job["id"])
            assert not canceled.get("errors")
            await asyncio.wait_for(watcher, 30)
            assert events[-1]["status"] == "CANCELED"
    finally:
        await runtime.aclose()
        valkey.stop()


async def test_the_cache_serves_a_fresh_value_right_after_an_update(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    job = await create_job(client)
    from tests.helpers import get_job

    assert (await get_job(client, job["id"]))["status"] == "PENDING"  # now cached
    assert await runtime.redis.exists(runtime.cache.key(job["id"]))
    await mutate(client, "cancelJob", job["id"])
    assert (await get_job(client, job["id"]))["status"] == "CANCELED"


async def test_websockets_from_an_origin_not_allowed_are_refused(
    settings: Settings, runtime: Runtime
) -> None:
    app = create_app(
        settings.model_copy(update={"allowed_origins": ["https://app.example"]}), runtime=runtime
    )
    async with live_server(app) as host:
        with pytest.raises(websockets.InvalidStatus) as info:
            async with websockets.connect(
                f"ws://{host}/graphql",
                subprotocols=[Subprotocol("graphql-transport-ws")],
                origin=Origin("https://evil.example"),
            ):
                pass
        assert info.value.response.status_code == 403
        async with websockets.connect(
            f"ws://{host}/graphql",
            subprotocols=[Subprotocol("graphql-transport-ws")],
            origin=Origin("https://app.example"),
        ) as ws:
            await ws.send(
                json.dumps(
                    {
                        "type": "connection_init",
                        "payload": {"Authorization": f"Bearer {make_token(settings)}"},
                    }
                )
            )
            assert json.loads(await ws.recv())["type"] == "connection_ack"
