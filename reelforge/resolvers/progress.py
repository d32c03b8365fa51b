"""`Subscription.jobProgress`: the current state first, then every change published by any
process, ending after a terminal state. After a Redis reconnect, and after every quiet spell
of `PROGRESS_RESYNC_INTERVAL`, the job is re-read from the database, so a final state whose
message was lost (a link down, a publish that failed) arrives late but is never missed."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable

import strawberry
import structlog

from reelforge.errors import InternalError, ReelforgeError
from reelforge.events import IDLE, RECONNECTED, job_channel
from reelforge.jobs.repository import JobChange
from reelforge.models import JobStatus
from reelforge.observability.metrics import ACTIVE_SUBSCRIPTIONS
from reelforge.runtime import Runtime, progress_payload
from reelforge.schema.context import Info
from reelforge.schema.types import JobProgress

log = structlog.get_logger(__name__)


async def job_progress(info: Info, job_id: strawberry.ID) -> AsyncGenerator[JobProgress, None]:
    context = info.context
    runtime, principal = context.runtime, context.principal

    async def snapshot(event: str) -> JobProgress:
        async with runtime.session() as session:
            row = await runtime.jobs(session).get(str(job_id), client_id=principal.client_id)
        return JobProgress.from_payload(progress_payload(row, JobChange(event=event)))

    ACTIVE_SUBSCRIPTIONS.inc()
    try:
        async for update in _job_updates(runtime, job_id, snapshot):
            yield update
    except ReelforgeError:
        raise
    except Exception as exc:  # subscriptions bypass the operation extension: mask here
        error_id = uuid.uuid4().hex[:12]
        log.error("subscription.unexpected_error", error_id=error_id, exc_info=exc)
        raise InternalError(f"Unexpected error (id {error_id})", errorId=error_id) from None
    finally:
        ACTIVE_SUBSCRIPTIONS.dec()


async def _job_updates(
    runtime: Runtime, job_id: strawberry.ID, snapshot: Callable[[str], Awaitable[JobProgress]]
) -> AsyncGenerator[JobProgress, None]:
    # Subscribe before reading, so nothing published in between is lost.
    idle_after = runtime.settings.progress_resync_interval.total_seconds()
    async with runtime.bus.subscribe(job_channel(str(job_id)), idle_after=idle_after) as messages:
        current = await snapshot("snapshot")
        yield current
        if JobStatus(current.status).is_terminal:
            return
        async for message in messages:
            if message in (RECONNECTED, IDLE):
                latest = await snapshot("resync")
                if latest.updated_at == current.updated_at:
                    continue
            else:
                latest = JobProgress.from_payload(json.loads(message))
            current = latest
            yield current
            if JobStatus(current.status).is_terminal:
                return
