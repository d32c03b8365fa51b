"""arq worker settings, shared by the standalone `reelforge worker` and the worker that
`reelforge serve` runs in-process (which passes its own Runtime instead of making one)."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import timedelta
from typing import Any

import structlog
from arq import Worker, cron, func
from arq.connections import RedisSettings

from reelforge.config import Settings
from reelforge.events import WEBHOOK_CHANNEL
from reelforge.jobs.queue import QUEUE_NAME, deserialize_task, serialize_task
from reelforge.jobs.run import Limits
from reelforge.jobs.tasks import TASKS, sweep_stuck_jobs
from reelforge.runtime import Runtime
from reelforge.webhooks.delivery import deliver_webhook, sweep_webhook_deliveries

log = structlog.get_logger(__name__)


async def relay_webhooks(runtime: Runtime) -> None:
    """Wake the poller of a prediction as soon as the API receives its webhook (the API and
    this worker may be different processes, so the wake-up travels over Redis)."""
    async with runtime.bus.subscribe(WEBHOOK_CHANNEL) as messages:
        async for message in messages:
            prediction_id = json.loads(message).get("id")
            if prediction_id:
                runtime.wakeups.notify(prediction_id)


async def stop_in_process_worker(worker: Worker, task: asyncio.Task[None]) -> None:
    """Stop a worker that runs inside this process. arq's `close()` cancels the running
    tasks (arq re-queues them) and then gathers them, so their CancelledError surfaces
    here: it is theirs, not ours, and must not escape into the caller's shutdown."""
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
) -> Worker:
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
        ctx["relay"].cancel()
        if ctx.get("owns_runtime"):
            await ctx["runtime"].aclose()
        log.info("worker.stopped")

    return Worker(
        functions=[
            *(func(coroutine, name=task.value) for task, coroutine in TASKS.items()),
            func(deliver_webhook, timeout=settings.webhook_timeout * 3, max_tries=1),
        ],
        cron_jobs=[
            cron(sweep_stuck_jobs, second=0, run_at_startup=True, unique=True),
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
        job_timeout=timedelta(hours=2),
        max_tries=5,
        handle_signals=handle_signals,
        job_completion_wait=25 if handle_signals else 0,
        burst=burst,
        poll_delay=0.05,  # a queued stage starts within 50 ms
    )
