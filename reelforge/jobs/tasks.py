"""arq task functions: thin wrappers that bind log context and hand a job to its pipeline
stage. A task cancelled by shutdown is re-queued by arq and resumes where it stopped."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import structlog

from reelforge.jobs import pipeline
from reelforge.jobs.pipeline import JobCanceled, Pipeline
from reelforge.jobs.repository import JobChange
from reelforge.jobs.service import RENDER_TASK, STORYBOARD_TASK, task_key
from reelforge.models import JobStatus, as_utc, utcnow
from reelforge.observability.metrics import JOBS_BY_STATUS, QUEUE_DEPTH, STUCK_JOBS
from reelforge.runtime import QUEUE_NAME, Runtime

log = structlog.get_logger(__name__)

# A job this many stuck periods without progress is failed instead of re-queued again.
GIVE_UP_AFTER_PERIODS = 3


def _runtime(ctx: dict[str, Any]) -> Runtime:
    runtime: Runtime = ctx["runtime"]
    return runtime


async def _run_stage(
    ctx: dict[str, Any], job_id: str, stage: str, step: Callable[[Pipeline], Awaitable[None]]
) -> None:
    runtime = _runtime(ctx)
    job_pipeline = Pipeline(runtime, job_id, ctx["global_limit"], ctx["encode_limit"])
    job = await job_pipeline.read()
    with structlog.contextvars.bound_contextvars(
        job_id=job.id, campaign_id=job.campaign_id, client_id=job.client_id, stage=stage
    ):
        log.info("task.started", attempt=ctx.get("job_try", 1))
        try:
            await step(job_pipeline)
        except JobCanceled:
            log.info("task.canceled")
            await job_pipeline.settle_canceled()
        except asyncio.CancelledError:
            log.info("task.interrupted")  # shutdown or abort: arq re-queues, the rerun resumes
            raise
        except Exception as exc:
            await job_pipeline.fail(stage, exc)
        else:
            log.info("task.finished")


async def generate_storyboard(ctx: dict[str, Any], job_id: str) -> None:
    await _run_stage(ctx, job_id, "storyboard", Pipeline.generate_storyboard)


async def render_video(ctx: dict[str, Any], job_id: str) -> None:
    await _run_stage(ctx, job_id, "render", Pipeline.render)


async def export_video(ctx: dict[str, Any], export_id: str) -> None:
    await pipeline.export_video(_runtime(ctx), export_id)


async def sweep_stuck_jobs(ctx: dict[str, Any]) -> int:
    """Re-queue jobs whose work stopped (a worker died); fail those stuck for too long.
    Also refreshes the jobs-by-status and queue-depth gauges."""
    runtime = _runtime(ctx)
    period = runtime.settings.stuck_job_after
    now = utcnow()
    async with runtime.session() as session:
        repo = runtime.jobs(session)
        for status in JobStatus:
            JOBS_BY_STATUS.labels(status=status.value).set(0)
        for name, count in (await repo.count_by_status()).items():
            JOBS_BY_STATUS.labels(status=name).set(count)
        stale = await repo.stale_jobs(now - period)
        STUCK_JOBS.set(len(stale))
        for job in stale:
            age = now - as_utc(job.updated_at)
            if age > period * GIVE_UP_AFTER_PERIODS:
                try:
                    await repo.transition(
                        job,
                        JobStatus.FAILED,
                        error_message=f"no progress for {age // timedelta(minutes=1)} minutes",
                        change=JobChange(event="failed", message="stuck: no progress"),
                    )
                except Exception as exc:
                    log.warning("sweep.fail_failed", job_id=job.id, error=str(exc))
                continue
            if job.status in (JobStatus.PENDING.value, JobStatus.GENERATING_STORYBOARD.value):
                await runtime.enqueue(STORYBOARD_TASK, job.id, key=task_key("storyboard", job.id))
            else:
                await runtime.enqueue(RENDER_TASK, job.id, key=task_key("render", job.id))
            log.warning("sweep.requeued", job_id=job.id, status=job.status)
    QUEUE_DEPTH.set(await runtime.queue.zcard(QUEUE_NAME))
    return len(stale)
