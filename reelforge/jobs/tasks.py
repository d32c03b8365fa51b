"""arq task functions: thin wrappers that bind log context and hand a job to its stage
(`storyboard`, `render`, `exports`). A task cancelled by shutdown is re-queued by arq and
resumes where it stopped; one that found the database pool exhausted is retried."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import structlog
from arq.typing import WorkerCoroutine
from arq.worker import Retry

from reelforge.db import is_transient
from reelforge.errors import BUSY_RETRY_AFTER, ServiceUnavailable
from reelforge.jobs import exports, recovery
from reelforge.jobs.predictions import Ledger
from reelforge.jobs.queue import QUEUE_NAME, Task, enqueue_task, task_key
from reelforge.jobs.render import render
from reelforge.jobs.repository import JobChange
from reelforge.jobs.retention import expire_media
from reelforge.jobs.run import JobCanceled, Run
from reelforge.jobs.storyboard import generate_storyboard
from reelforge.models import JobStatus, as_utc, utcnow
from reelforge.observability.metrics import JOBS_BY_STATUS, QUEUE_DEPTH, STUCK_JOBS
from reelforge.runtime import Runtime

log = structlog.get_logger(__name__)

# A job this many stuck periods without progress is failed instead of re-queued again.
GIVE_UP_AFTER_PERIODS = 3


def _runtime(ctx: dict[str, Any]) -> Runtime:
    runtime: Runtime = ctx["runtime"]
    return runtime


def _retry_later(ctx: dict[str, Any], exc: ServiceUnavailable) -> Retry:
    attempt = int(ctx.get("job_try", 1))
    log.warning("task.retry", attempt=attempt, error=exc.message)
    return Retry(defer=timedelta(seconds=BUSY_RETRY_AFTER * attempt))


async def _run_stage(
    ctx: dict[str, Any], job_id: str, stage: str, step: Callable[[Run], Awaitable[None]]
) -> None:
    run = Run(_runtime(ctx), job_id, ctx["limits"])
    try:
        job = await run.read()
    except ServiceUnavailable as exc:
        raise _retry_later(ctx, exc) from exc
    with structlog.contextvars.bound_contextvars(
        job_id=job.id, campaign_id=job.campaign_id, client_id=job.client_id, stage=stage
    ):
        log.info("task.started", attempt=ctx.get("job_try", 1))
        try:
            await step(run)
        except JobCanceled:
            log.info("task.canceled")
            await Ledger(run).settle_abandoned(stop=True)
            await run.settle_canceled()
        except asyncio.CancelledError:
            log.info("task.interrupted")  # shutdown or abort: arq re-queues, the rerun resumes
            await _after_abort(run)
            raise
        except ServiceUnavailable as exc:
            raise _retry_later(ctx, exc) from exc  # the database was busy: try again
        except Exception as exc:
            attempt = int(ctx.get("job_try", 1))
            if is_transient(exc) and attempt < TRANSIENT_TRIES:
                # A dropped connection, a serialization failure: the step runs again and
                # resumes from the ledger (nothing is paid twice); the client sees nothing.
                log.warning("task.transient_error", attempt=attempt, error=str(exc)[:300])
                delay = run.runtime.settings.transient_retry_delay.total_seconds() * attempt
                raise Retry(defer=timedelta(seconds=min(30.0, delay))) from exc
            await run.fail(stage, exc)
            await _settle_quietly(run, stop=True)
        else:
            log.info("task.finished")


# Runs of one task (arq counts every run, one cut short by a killed worker included) within
# which a transient database error re-runs the step; below the task's arq `max_tries` (20).
TRANSIENT_TRIES = 18


async def _after_abort(run: Run) -> None:
    """A task stopped from outside: by cancelJob's abort (stop the job's predictions and
    record what they cost) or by a shutdown (the rerun resumes; nothing to do)."""

    async def settle() -> None:
        job = await run.read()
        if job.status == JobStatus.CANCELED.value:
            await _settle_quietly(run, stop=True)
            await run.settle_canceled()

    try:
        await asyncio.wait_for(asyncio.shield(settle()), timeout=30)
    except Exception as exc:
        log.warning("task.settle_after_abort_failed", error=str(exc)[:300])


async def _settle_quietly(run: Run, *, stop: bool) -> None:
    try:
        await Ledger(run).settle_abandoned(stop=stop)
    except Exception as exc:
        log.warning("task.settle_failed", error=str(exc)[:300])


async def generate_storyboard_task(ctx: dict[str, Any], job_id: str) -> None:
    await _run_stage(ctx, job_id, "storyboard", generate_storyboard)


async def render_video_task(ctx: dict[str, Any], job_id: str) -> None:
    await _run_stage(ctx, job_id, "render", render)


async def export_video_task(ctx: dict[str, Any], export_id: str) -> None:
    try:
        await exports.export_video(_runtime(ctx), export_id)
    except ServiceUnavailable as exc:
        raise _retry_later(ctx, exc) from exc


# Each task function under its name in the queue.
TASKS: dict[Task, WorkerCoroutine] = {
    Task.STORYBOARD: generate_storyboard_task,
    Task.RENDER: render_video_task,
    Task.EXPORT: export_video_task,
}


async def sweep_stuck_jobs(ctx: dict[str, Any]) -> int:
    """The database is the source of truth for what should be running. Every
    SWEEP_INTERVAL (on one worker): each job or export with work to do gets its task queued,
    or left to the live worker running it, or taken back from a worker that died (SIGKILL,
    a lost machine) or from a Redis that lost its data; a job without progress for too long
    is failed. Also refreshes the jobs-by-status, stuck-jobs and queue-depth gauges. Returns
    how many jobs it re-queued or failed; every log line says which really happened."""
    runtime = _runtime(ctx)
    period = runtime.settings.stuck_job_after
    now = utcnow()
    acted = 0
    todo: list[tuple[Task, str, str, timedelta]] = []  # task, entity id, status, idle for
    give_up: list[str] = []
    async with runtime.unit() as unit:
        repo = runtime.jobs(unit)
        for status in JobStatus:
            JOBS_BY_STATUS.labels(status=status.value).set(0)
        for name, count in (await repo.count_by_status()).items():
            JOBS_BY_STATUS.labels(status=name).set(count)
        busy = await repo.busy_jobs()
        STUCK_JOBS.set(sum(1 for job in busy if now - as_utc(job.updated_at) > period))
        for job in busy:
            age = now - as_utc(job.updated_at)
            if age > period * GIVE_UP_AFTER_PERIODS:
                give_up.append(job.id)
            elif job.status in (JobStatus.PENDING.value, JobStatus.GENERATING_STORYBOARD.value):
                todo.append((Task.STORYBOARD, job.id, job.status, age))
            else:
                todo.append((Task.RENDER, job.id, job.status, age))
        # Exports idle for a stuck period (their own progress writes keep live ones fresh).
        todo += [
            (Task.EXPORT, e.id, e.status, period) for e in await repo.stale_exports(now - period)
        ]
    for job_id in give_up:
        try:
            await _give_up(runtime, job_id, now)
        except Exception as exc:
            log.warning("sweep.fail_failed", job_id=job_id, error=str(exc))
        else:
            acted += 1
            log.warning("sweep.gave_up", job_id=job_id)
    grace = runtime.settings.worker_heartbeat_ttl
    settled = await recovery.redis_settled(runtime.queue, grace, now.timestamp())
    for task, entity_id, state, age in todo:
        # A task found nowhere is queued afresh only once workers had time to renew their
        # leases (a job written moments ago, a Redis that just lost its data): a second copy
        # of a task that is in fact running would only race it.
        outcome = await enqueue_task(
            runtime.queue,
            task.value,
            entity_id,
            key=task_key(task, entity_id),
            grace=grace,
            queue_if_missing=settled and age > grace,
        )
        if outcome in ("queued", "released", "requeued"):
            acted += 1
            # queued: nothing held it (Redis lost it); released/requeued: its worker died.
            log.warning(f"sweep.{outcome}", task=task.value, id=entity_id, status=state)
    QUEUE_DEPTH.set(await runtime.queue.zcard(QUEUE_NAME))
    await expire_media(runtime, now)
    return acted


async def _give_up(runtime: Runtime, job_id: str, now: datetime) -> None:
    async with runtime.unit() as unit:
        repo = runtime.jobs(unit)
        job = await repo.get(job_id, client_id=None)
        age = now - as_utc(job.updated_at)
        settled = await repo.settle_budget(job)
        await repo.transition(
            job,
            JobStatus.FAILED,
            error_message=f"no progress for {age // timedelta(minutes=1)} minutes",
            change=JobChange(event="failed", message="stuck: no progress"),
            **settled,
        )
