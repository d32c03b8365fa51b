"""RETENTION_DAYS: the sweep removes the media (stills, clips, video, exports) of jobs that
finished that many days ago. The job rows stay (status, costs, events, the storyboard's
text): the client's history and spend remain, the heavy files go. Off when unset."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from reelforge.runtime import Runtime
from reelforge.storage.deletion import delete_job_media

log = structlog.get_logger(__name__)

BATCH = 100  # jobs per sweep; the next sweep takes the rest


async def expire_media(runtime: Runtime, now: datetime) -> int:
    """Delete the media of jobs finished before ``now - RETENTION_DAYS``; returns how many
    jobs lost theirs."""
    days = runtime.settings.retention_days
    if not days:
        return 0
    cutoff = now - timedelta(days=days)
    async with runtime.unit() as unit:
        jobs = await runtime.jobs(unit).finished_with_media(cutoff, BATCH)
    done = 0
    for job in jobs:
        try:
            async with runtime.unit() as unit:
                _, keys = await runtime.jobs(unit).drop_media(
                    job, message=f"media deleted after {days:g} days (RETENTION_DAYS)"
                )
            await delete_job_media(runtime.blobs, job.id, keys)
            done += 1
        except Exception as exc:  # one job's failure must not stop the sweep
            log.warning("retention.failed", job_id=job.id, error=str(exc))
    if done:
        log.info("retention.media_deleted", jobs=done, older_than_days=days)
    return done
