"""The periodic sweep: jobs whose worker died are re-queued, and given up on after a while."""

from __future__ import annotations

import importlib
import time
from datetime import timedelta

from sqlalchemy import text, update

from reelforge.jobs import recovery
from reelforge.jobs.repository import JobRepository
from reelforge.jobs.tasks import sweep_stuck_jobs
from reelforge.models import Job, JobStatus, utcnow
from reelforge.runtime import Runtime

MIGRATION = importlib.import_module("reelforge.migrations.versions.0002_v2_video_generation")


async def aged_job(runtime: Runtime, status: JobStatus, idle: timedelta) -> str:
    """A job in `status` whose last write was `idle` ago. The updated_at trigger would stamp
    any UPDATE with now, so it is switched off around this one write."""
    async with runtime.session() as session:
        job = await JobRepository(session).create(
            Job(client_id="acme", user_id="alice", prompt="brief", params={}, status=status.value),
            actor="alice",
        )
        postgres = session.bind.dialect.name == "postgresql"
        off = (
            "ALTER TABLE jobs DISABLE TRIGGER trg_jobs_updated_at"
            if postgres
            else "DROP TRIGGER trg_jobs_updated_at"
        )
        on = (
            "ALTER TABLE jobs ENABLE TRIGGER trg_jobs_updated_at"
            if postgres
            else MIGRATION.SQLITE_TRIGGER
        )
        await session.execute(text(off))
        await session.execute(
            update(Job).where(Job.id == job.id).values(updated_at=utcnow() - idle)
        )
        await session.execute(text(on))
        await session.commit()
        return job.id


async def test_a_stale_job_is_requeued_and_a_long_stuck_one_failed(runtime: Runtime) -> None:
    period = runtime.settings.stuck_job_after
    fresh = await aged_job(runtime, JobStatus.RENDERING, timedelta(0))
    stale = await aged_job(runtime, JobStatus.RENDERING, period + timedelta(minutes=1))
    dead = await aged_job(runtime, JobStatus.GENERATING_STORYBOARD, period * 4)

    # A Redis that just lost its data: workers get a lease period to say what they run, so
    # nothing is queued yet; only the long-stuck job is given up on.
    assert await sweep_stuck_jobs({"runtime": runtime}) == 1
    assert not await runtime.redis.exists(f"arq:job:render:{stale}")
    # A lease period later, nothing runs `stale` (no task in Redis): it is queued again from
    # the database. `fresh` was written moments ago: its worker may not have renewed yet.
    await runtime.queue.set(recovery.EPOCH_KEY, str(time.time() - 3600))
    assert await sweep_stuck_jobs({"runtime": runtime}) == 1
    assert await runtime.redis.exists(f"arq:job:render:{stale}")
    assert not await runtime.redis.exists(f"arq:job:render:{fresh}")
    assert not await runtime.redis.exists(f"arq:job:storyboard:{dead}")
    async with runtime.session() as session:
        failed = await JobRepository(session).get(dead, client_id=None)
        assert (await JobRepository(session).get(fresh, client_id=None)).status == "rendering"
    assert failed.status == JobStatus.FAILED.value
    assert "no progress" in (failed.error_message or "")
