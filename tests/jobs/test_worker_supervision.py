"""The worker inside `reelforge serve` is started again when it stops, /readyz says when it
is down, and a worker rides out a Redis that stops answering instead of leaving its loop."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

import httpx
from arq.connections import RedisSettings, create_pool
from redis.exceptions import ConnectionError as RedisConnectionError

from reelforge.jobs.worker import ResilientWorker, WorkerSupervisor, build_worker
from reelforge.runtime import Runtime


async def test_a_worker_that_stops_is_started_again_and_unhealthy_meanwhile(
    runtime: Runtime,
) -> None:
    made: list[ResilientWorker] = []

    def make() -> ResilientWorker:
        worker = build_worker(
            runtime.settings, runtime.redis_url, runtime=runtime, handle_signals=False
        )
        if not made:

            async def crash() -> None:
                await asyncio.sleep(0.05)
                raise RuntimeError("the worker's loop died")

            worker.main = crash  # type: ignore[method-assign]
        made.append(worker)
        return worker

    supervisor = WorkerSupervisor(make)
    supervisor.start()
    seen_down = False
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline:
            if not supervisor.healthy and supervisor.restarts:
                seen_down = True
            if supervisor.healthy and len(made) == 2:
                break
            await asyncio.sleep(0.01)
        assert seen_down, "the supervisor never reported the dead worker"
        assert supervisor.healthy and supervisor.restarts == 1
    finally:
        await supervisor.stop()


async def test_readyz_fails_while_the_in_process_worker_is_down(
    app: Any, client: httpx.AsyncClient
) -> None:
    app.state.worker = SimpleNamespace(healthy=False)
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"].startswith("down")
    app.state.worker = SimpleNamespace(healthy=True)
    assert (await client.get("/readyz")).status_code == 200


async def test_a_redis_error_in_the_poll_loop_is_waited_out(runtime: Runtime) -> None:
    worker = build_worker(
        runtime.settings, runtime.redis_url, runtime=runtime, handle_signals=False
    )
    calls = 0

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        raise RedisConnectionError("Connection refused")

    worker._pool = SimpleNamespace(zrangebyscore=flaky)  # type: ignore[assignment]
    for _ in range(2):
        await worker._poll_iteration()  # logged and backed off, never raised
    assert calls == 2 and not worker.redis_ok
    assert worker.job_counter == 0


async def test_redis_lost_while_a_worker_claims_a_task_is_waited_out(runtime: Runtime) -> None:
    """redis-py reports a connection lost during WATCH (arq's claim of a task) as a
    WatchError, not a ConnectionError: the worker must wait it out like any outage, give its
    claim back, and take the task on the next poll."""
    worker = build_worker(
        runtime.settings, runtime.redis_url, runtime=runtime, handle_signals=False
    )
    pool = await create_pool(RedisSettings.from_dsn(runtime.redis_url))
    worker._pool = pool
    await runtime.queue.enqueue_job("no-such-task", _job_id="claimed-as-redis-drops")
    real_pipeline = pool.pipeline
    drops = 0

    def pipeline_losing_its_connection(*args: Any, **kwargs: Any) -> Any:
        pipe = real_pipeline(*args, **kwargs)
        real_watch = pipe.watch

        async def watch(*names: Any) -> Any:
            nonlocal drops
            result = await real_watch(*names)
            if not drops:
                drops += 1
                await runtime.redis.client_kill_filter(_id=await pipe.client_id())
            return result

        pipe.watch = watch  # type: ignore[method-assign]
        return pipe

    pool.pipeline = pipeline_losing_its_connection  # type: ignore[method-assign]
    try:
        await worker._poll_iteration()  # logged and backed off, never raised
        assert drops == 1 and not worker.redis_ok
        assert worker.job_counter == 0 and "claimed-as-redis-drops" not in worker.tasks
        await worker._poll_iteration()
        assert worker.redis_ok
        await worker.tasks["claimed-as-redis-drops"]
    finally:
        await pool.aclose()


async def test_a_worker_stopped_with_a_task_not_yet_started_still_shuts_down(
    runtime: Runtime,
) -> None:
    """A task picked up just as the worker stops ends cancelled before its first step; arq's
    own close() gave up on that CancelledError, leaving the worker's Redis pool open (closed
    later by the garbage collector, after the event loop: "loop is closed") and its shutdown
    hook unrun (the webhook relay still subscribed)."""
    worker = build_worker(
        runtime.settings, runtime.redis_url, runtime=runtime, handle_signals=False
    )
    run = asyncio.create_task(worker.async_run())
    while "relay" not in worker.ctx:
        await asyncio.sleep(0.01)
    relay = worker.ctx["relay"]
    worker.allow_pick_jobs = False  # the poll loop takes nothing; the test hands the task over
    await runtime.queue.enqueue_job("no-such-task", _job_id="picked-up-at-shutdown")
    await ResilientWorker.start_jobs(worker, [b"picked-up-at-shutdown"])
    assert not worker.tasks["picked-up-at-shutdown"].done()
    pool = worker.pool

    await worker.close()

    assert worker.tasks["picked-up-at-shutdown"].cancelled()
    assert worker._pool is None
    connections = [
        *pool.connection_pool._available_connections,
        *pool.connection_pool._in_use_connections,
    ]
    assert connections and not any(c.is_connected for c in connections)
    assert relay.done()
    run.cancel()
    await asyncio.gather(run, return_exceptions=True)
