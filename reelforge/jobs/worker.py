"""arq worker settings, shared by the standalone `reelforge worker` and the worker that
`reelforge serve` runs in-process (which passes its own Runtime instead of making one).

Both survive Redis outages: `ResilientWorker` keeps polling with backoff instead of leaving
its loop on the first connection error (arq's own worker exits), and `WorkerSupervisor`
starts a worker again whenever one stops on its own (Redis unreachable at start-up, any
unexpected error). Every worker heartbeats the tasks it runs, so a task left behind by a
worker that died (SIGKILL, a lost machine) is taken back within a minute (`jobs.recovery`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from signal import Signals
from typing import Any

import structlog
from arq import Worker, cron, func
from arq.connections import RedisSettings
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.exceptions import WatchError

from reelforge.config import Settings
from reelforge.events import WEBHOOK_CHANNEL
from reelforge.jobs import recovery
from reelforge.jobs.queue import QUEUE_NAME, deserialize_task, serialize_task
from reelforge.jobs.run import Limits
from reelforge.jobs.tasks import TASKS, sweep_stuck_jobs
from reelforge.runtime import Runtime
from reelforge.webhooks.delivery import deliver_webhook, sweep_webhook_deliveries

log = structlog.get_logger(__name__)

# redis-py reports a connection lost during WATCH (arq's claim of a task) as a WatchError;
# arq itself handles the WatchError of a claim that lost a race, so any that reaches us is
# an outage.
REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError, WatchError, OSError)


def backoff(attempt: int, *, cap: float = 5.0) -> float:
    return min(cap, 0.2 * 2.0**attempt) * (0.5 + random.random() / 2)


async def relay_webhooks(runtime: Runtime) -> None:
    """Wake the poller of a prediction as soon as the API receives its webhook (the API and
    this worker may be different processes, so the wake-up travels over Redis)."""
    async with runtime.bus.subscribe(WEBHOOK_CHANNEL) as messages:
        async for message in messages:
            prediction_id = json.loads(message).get("id")
            if prediction_id:
                runtime.wakeups.notify(prediction_id)


class ResilientWorker(Worker):
    """arq's worker that rides out Redis outages and heartbeats the tasks it runs."""

    def __init__(self, *args: Any, heartbeat_ttl: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.heartbeat_ttl = heartbeat_ttl
        self.redis_ok = True
        self.stopping = False
        self._failures = 0
        self._last_beat = 0.0

    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
        except REDIS_ERRORS as exc:
            self.redis_ok = False
            self._failures += 1
            # Back within a third of the lease, so the leases of running tasks stay renewed.
            delay = backoff(self._failures, cap=min(5.0, self.heartbeat_ttl / 3))
            log.warning("worker.redis.unavailable", error=str(exc), retry_in=round(delay, 2))
            await asyncio.sleep(delay)
            return
        if not self.redis_ok:
            log.info("worker.redis.reconnected", after_failures=self._failures)
            self._last_beat = 0.0  # renew every lease now: Redis may have lost them
        self.redis_ok = True
        self._failures = 0

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        # arq counts a claim before it talks to Redis and never gives it back when that
        # fails; without this, every outage would shrink the worker's capacity for good.
        for job_id in job_ids:
            try:
                await super().start_jobs([job_id])
            except REDIS_ERRORS:
                if job_id.decode() not in self.tasks:
                    self.job_counter -= 1
                    self.sem.release()
                raise

    async def heart_beat(self) -> None:
        await super().heart_beat()
        now = time.monotonic()
        if now - self._last_beat < self.heartbeat_ttl / 3:
            return
        running = [key for key, task in self.tasks.items() if not task.done()]
        info = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "tasks": running})
        await recovery.heartbeat(
            self.pool, self.worker_id, running, ttl=timedelta(seconds=self.heartbeat_ttl), info=info
        )
        self._last_beat = now

    async def run_job(self, job_id: str, score: int) -> None:
        # The lease is taken at once and given back at the end, so it means "running on a
        # live worker" exactly (the heartbeat keeps it while the task runs).
        lease = recovery.owner_key(job_id)
        ttl = int(self.heartbeat_ttl * 1000)
        with contextlib.suppress(*REDIS_ERRORS):
            await self.pool.set(lease, self.worker_id, px=ttl)
        try:
            await super().run_job(job_id, score)
        finally:
            with contextlib.suppress(*REDIS_ERRORS):
                await self.pool.delete(lease)

    def handle_sig(self, signum: Signals) -> None:
        self.stopping = True
        super().handle_sig(signum)

    async def close(self) -> None:
        """arq's close(), except that a task ending cancelled does not cut it short: arq's
        gathers the tasks it just cancelled without `return_exceptions`, so one that was
        cancelled outside the job function (not yet started, renewing its lease) made it
        skip the shutdown hook and leave the Redis pool open."""
        if not self._handle_signals:
            self.handle_sig(Signals.SIGUSR1)
        if not self._pool:
            return
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        await self.pool.delete(self.health_check_key)
        if self.on_shutdown:
            await self.on_shutdown(self.ctx)
        await self.pool.aclose(close_connection_pool=True)
        self._pool = None

    def handle_sig_wait_for_completion(self, signum: Signals) -> None:
        self.stopping = True
        super().handle_sig_wait_for_completion(signum)


async def stop_in_process_worker(worker: Worker, task: asyncio.Task[None]) -> None:
    """Stop a worker that runs inside this process: `close()` cancels the running tasks (arq
    re-queues them), runs the shutdown hook and closes the worker's Redis pool; an error it
    meets there (Redis gone) must not escape into the caller's shutdown."""
    await asyncio.gather(worker.close(), return_exceptions=True)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def build_worker(
    settings: Settings,
    redis_url: str,
    *,
    runtime: Runtime | None = None,
    handle_signals: bool = True,
    burst: bool = False,
) -> ResilientWorker:
    """An arq worker. With `runtime`, tasks share it (in-process worker); without, the
    worker builds its own at start-up and closes it at shutdown."""

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["runtime"] = runtime or await Runtime.start(settings, redis_url=redis_url)
        ctx["owns_runtime"] = runtime is None
        ctx["limits"] = Limits(
            predictions=asyncio.Semaphore(settings.global_concurrency),
            encodes=asyncio.Semaphore(os.cpu_count() or 2),
        )
        ctx["relay"] = asyncio.create_task(relay_webhooks(ctx["runtime"]))
        log.info("worker.started", queue=QUEUE_NAME)

    async def shutdown(ctx: dict[str, Any]) -> None:
        if "relay" in ctx:
            ctx["relay"].cancel()
            await asyncio.gather(ctx["relay"], return_exceptions=True)
        if ctx.get("owns_runtime"):
            await ctx["runtime"].aclose()
        log.info("worker.stopped")

    return ResilientWorker(
        functions=[
            *(func(coroutine, name=task.value) for task, coroutine in TASKS.items()),
            func(deliver_webhook, timeout=settings.webhook_timeout * 3, max_tries=1),
        ],
        cron_jobs=[
            # On one worker at a time (unique), every SWEEP_INTERVAL seconds.
            cron(
                sweep_stuck_jobs,
                second=set(range(0, 60, settings.sweep_interval)),
                run_at_startup=True,
                unique=True,
            ),
            cron(
                sweep_webhook_deliveries,
                second=set(range(0, 60, 10)),
                run_at_startup=True,
                unique=True,
            ),
        ],
        redis_settings=RedisSettings.from_dsn(redis_url),
        queue_name=QUEUE_NAME,
        job_serializer=serialize_task,
        job_deserializer=deserialize_task,
        on_startup=startup,
        on_shutdown=shutdown,
        keep_result=0,  # lets a stage be queued again once it finished (refine, retry)
        allow_abort_jobs=True,
        max_jobs=settings.global_concurrency * 2,
        job_timeout=recovery.JOB_TIMEOUT,
        # A task is started again after every crash of its worker; the sweep, not this
        # count, gives up on a job that makes no progress.
        max_tries=20,
        handle_signals=handle_signals,
        job_completion_wait=(
            round(settings.worker_shutdown_grace.total_seconds()) if handle_signals else 0
        ),
        burst=burst,
        poll_delay=0.05,  # a queued stage starts within 50 ms
        heartbeat_ttl=settings.worker_heartbeat_ttl.total_seconds(),
    )


class WorkerSupervisor:
    """Runs a worker and starts a new one whenever it stops by itself, with backoff.
    `healthy` is what `/readyz` reports for the worker inside `reelforge serve`."""

    def __init__(self, make_worker: Callable[[], ResilientWorker]) -> None:
        self.make_worker = make_worker
        self.worker: ResilientWorker | None = None
        self.restarts = 0
        self._task: asyncio.Task[None] | None = None
        self._stopped = False

    @property
    def healthy(self) -> bool:
        return (
            self._task is not None
            and not self._task.done()
            and self.worker is not None
            and self.worker.main_task is not None
            and not self.worker.main_task.done()
            and self.worker.redis_ok
        )

    def start(self) -> None:
        self._task = asyncio.create_task(self.run())

    async def run(self) -> None:
        attempt = 0
        while not self._stopped:
            worker = self.worker = self.make_worker()
            started = time.monotonic()
            try:
                await worker.async_run()
                if worker.burst:
                    return
                log.error("worker.exited")
            except asyncio.CancelledError:
                if self._stopped or worker.stopping:
                    await self._close(worker)
                    raise
                log.error("worker.cancelled")  # cancelled from inside: start another
            except Exception as exc:
                log.error("worker.crashed", error=str(exc), error_type=type(exc).__name__)
            signalled = worker.stopping  # read before close(), which signals the worker itself
            await self._close(worker)
            if signalled:
                return
            attempt = 0 if time.monotonic() - started > 60 else attempt + 1
            delay = backoff(attempt, cap=10.0)
            self.restarts += 1
            log.warning("worker.restarting", retry_in=round(delay, 2), restarts=self.restarts)
            await asyncio.sleep(delay)

    async def _close(self, worker: ResilientWorker) -> None:
        if self._stopped:
            return  # stop() closes it
        for task in worker.tasks.values():
            task.cancel()  # arq re-queues them; the sweep catches any it cannot
        await asyncio.gather(worker.close(), return_exceptions=True)

    async def stop(self) -> None:
        self._stopped = True
        if self._task is None:
            return
        if self.worker is not None and self.worker.main_task is not None:
            await stop_in_process_worker(self.worker, self.worker.main_task)
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def run_standalone(settings: Settings, redis_url: str) -> None:
    """`reelforge worker`: one worker at a time, started again after any failure, until
    SIGTERM/SIGINT (arq then lets running tasks finish for WORKER_SHUTDOWN_GRACE)."""
    supervisor = WorkerSupervisor(lambda: build_worker(settings, redis_url))
    try:
        await supervisor.run()
    except asyncio.CancelledError:
        pass
    finally:
        if supervisor.worker is not None:
            await asyncio.gather(supervisor.worker.close(), return_exceptions=True)
