"""`Subscription.jobProgress`: the current state first, then every change published by any
process, ending after a terminal state. After a Redis reconnect the job is re-read from the
database, so a final state published while the link was down is never missed."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator

import strawberry

from reelforge.events import RECONNECTED, job_channel
from reelforge.jobs.service import JobService
from reelforge.models import JobStatus
from reelforge.observability.metrics import ACTIVE_SUBSCRIPTIONS
from reelforge.runtime import progress_payload
from reelforge.jobs.repository import JobChange
from reelforge.schema.context import Info
from reelforge.schema.types import JobProgress


async def job_progress(info: Info, job_id: strawberry.ID) -> AsyncGenerator[JobProgress, None]:
    context = info.context
    runtime, principal = context.runtime, context.principal

    async def snapshot(event: str) -> JobProgress:
        async with runtime.session() as session:
            row = await JobService(runtime, session, principal).repo.get(
                str(job_id), client_id=principal.client_id
            )
        return JobProgress.from_payload(progress_payload(row, JobChange(event=event)))

    ACTIVE_SUBSCRIPTIONS.inc()
    try:
        # Subscribe before reading, so nothing published in between is lost.
        async with runtime.bus.subscribe(job_channel(str(job_id))) as messages:
            current = await snapshot("snapshot")
            yield current
            if JobStatus(current.status).is_terminal:
                return
            async for message in messages:
                if message == RECONNECTED:
                    latest = await snapshot("resync")
                    if latest.updated_at == current.updated_at:
                        continue
                else:
                    latest = JobProgress.from_payload(json.loads(message))
                current = latest
                yield current
                if JobStatus(current.status).is_terminal:
                    return
    finally:
        ACTIVE_SUBSCRIPTIONS.dec()
