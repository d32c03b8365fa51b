"""The only module that reads and writes jobs, predictions, exports and job events.

Every job write goes through `JobRepository.update`: a compare-and-set UPDATE (so an API
process and a worker never overwrite each other), then commit, then cache invalidation,
then the progress event, in that order."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from reelforge.errors import BadUserInput, Conflict, NotFound
from reelforge.jobs.states import check_transition
from reelforge.models import (
    Asset,
    Export,
    Job,
    JobEvent,
    JobStatus,
    Prediction,
    PredictionStatus,
    as_utc,
)

MAX_PAGE_SIZE = 100


class JobNotifier(Protocol):
    """What happens around a job write: before its commit, what must be written with a new
    status (webhook deliveries); after it, cache invalidation, the event, the sending."""

    async def status_reached(self, session: AsyncSession, job: Job) -> None: ...

    async def job_changed(self, job: Job, change: JobChange) -> None: ...


@dataclass(frozen=True)
class JobChange:
    event: str | None = None
    message: str | None = None
    scene_index: int | None = None


class NullNotifier:
    async def status_reached(self, session: AsyncSession, job: Job) -> None:
        return None

    async def job_changed(self, job: Job, change: JobChange) -> None:
        return None


@dataclass
class JobPage:
    jobs: list[Job]
    has_next_page: bool
    end_cursor: str | None
    total_count: int


def encode_cursor(job: Job) -> str:
    raw = f"{as_utc(job.created_at).isoformat()}|{job.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created, job_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return datetime.fromisoformat(created), job_id
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadUserInput("invalid cursor", field="after") from exc


class JobRepository:
    def __init__(self, session: AsyncSession, notifier: JobNotifier | None = None) -> None:
        self.session = session
        self.notifier: JobNotifier = notifier or NullNotifier()

    # -- jobs: reads --------------------------------------------------------------------

    async def get(self, job_id: str, *, client_id: str | None) -> Job:
        """A job by id; scoped to `client_id` (None only for workers). Another client's job
        is NOT_FOUND, never FORBIDDEN."""
        query = select(Job).where(Job.id == job_id)
        if client_id is not None:
            query = query.where(Job.client_id == client_id)
        job = (await self.session.execute(query.execution_options(populate_existing=True))).scalar()
        if job is None:
            raise NotFound(f"job {job_id} not found", id=job_id)
        return job

    async def list_jobs(
        self,
        client_id: str,
        *,
        first: int = 20,
        after: str | None = None,
        status: JobStatus | None = None,
        campaign_id: str | None = None,
    ) -> JobPage:
        if not 1 <= first <= MAX_PAGE_SIZE:
            raise BadUserInput(f"first must be between 1 and {MAX_PAGE_SIZE}", field="first")
        filters = [Job.client_id == client_id]
        if status is not None:
            filters.append(Job.status == status.value)
        if campaign_id is not None:
            filters.append(Job.campaign_id == campaign_id)
        total = (await self.session.execute(select(func.count()).where(*filters))).scalar_one()
        query = select(Job).where(*filters)
        if after:
            created_at, job_id = decode_cursor(after)
            query = query.where(
                or_(
                    Job.created_at < created_at, and_(Job.created_at == created_at, Job.id < job_id)
                )
            )
        query = query.order_by(Job.created_at.desc(), Job.id.desc()).limit(first + 1)
        rows = list((await self.session.execute(query)).scalars())
        has_next = len(rows) > first
        rows = rows[:first]
        return JobPage(rows, has_next, encode_cursor(rows[-1]) if rows else None, total)

    async def events(self, job_id: str) -> list[JobEvent]:
        query = select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id)
        return list((await self.session.execute(query)).scalars())

    async def spend_since(self, client_id: str, since: datetime) -> float:
        """Dollars spent by a client's predictions since `since`."""
        query = (
            select(func.coalesce(func.sum(Prediction.cost), 0.0))
            .join(Job, Job.id == Prediction.job_id)
            .where(Job.client_id == client_id, Prediction.created_at >= since)
        )
        return float((await self.session.execute(query)).scalar_one() or 0.0)

    async def committed_since(self, client_id: str, since: datetime) -> float:
        """Estimated cost of the client's renders still running: spend that is promised.
        Predictions they already recorded count here and in `spend_since` alike, which errs
        on the side of not overspending."""
        query = select(func.coalesce(func.sum(Job.estimated_cost), 0.0)).where(
            Job.client_id == client_id,
            Job.status.in_([JobStatus.RENDERING.value, JobStatus.STITCHING.value]),
            Job.updated_at >= since,
        )
        return float((await self.session.execute(query)).scalar_one() or 0.0)

    async def busy_jobs(self) -> list[Job]:
        """Non-terminal jobs with work to do (a task should be queued or running for each)."""
        busy = [
            JobStatus.PENDING,
            JobStatus.GENERATING_STORYBOARD,
            JobStatus.RENDERING,
            JobStatus.STITCHING,
        ]
        query = select(Job).where(Job.status.in_([s.value for s in busy]))
        return list((await self.session.execute(query)).scalars())

    async def delete(self, job: Job) -> list[str]:
        """Remove the job and every row of it (events, predictions, exports, its assets);
        returns the storage keys of the assets, for the caller to remove after the commit."""
        keys = list(
            (
                await self.session.execute(select(Asset.storage_key).where(Asset.job_id == job.id))
            ).scalars()
        )
        for model in (Export, JobEvent, Prediction, Asset):
            await self.session.execute(delete(model).where(model.job_id == job.id))
        await self.session.execute(delete(Job).where(Job.id == job.id))
        await self.session.commit()
        return keys

    async def finished_with_media(self, finished_before: datetime, limit: int) -> list[Job]:
        """Terminal jobs last changed before ``finished_before`` that still own media."""
        terminal = [s.value for s in JobStatus if s.is_terminal]
        query = (
            select(Job)
            .where(
                Job.status.in_(terminal),
                Job.updated_at < finished_before,
                exists().where(Asset.job_id == Job.id),
            )
            .order_by(Job.updated_at)
            .limit(limit)
        )
        return list((await self.session.execute(query)).scalars())

    async def drop_media(self, job: Job, *, message: str) -> tuple[Job, list[str]]:
        """Remove the job's assets and exports but keep the job (its status, costs, events
        and storyboard text); returns the job and the storage keys to remove."""
        keys = list(
            (
                await self.session.execute(select(Asset.storage_key).where(Asset.job_id == job.id))
            ).scalars()
        )
        await self.session.execute(delete(Export).where(Export.job_id == job.id))
        await self.session.execute(delete(Asset).where(Asset.job_id == job.id))
        job = await self.update(
            job,
            change=JobChange(event="media_deleted", message=message),
            video_asset_id=None,
            thumbnail_asset_id=None,
            video_url=None,
        )
        return job, keys

    async def count_by_status(self) -> dict[str, int]:
        query = select(Job.status, func.count()).group_by(Job.status)
        return {status: count for status, count in (await self.session.execute(query)).all()}

    # -- jobs: the one write path ------------------------------------------------------

    async def create(self, job: Job, *, actor: str | None) -> Job:
        self.session.add(job)
        await self.session.flush()
        self.session.add(
            JobEvent(job_id=job.id, type="created", actor=actor, message=job.prompt[:200])
        )
        await self.session.commit()
        await self.notifier.job_changed(job, JobChange(event="created"))
        return job

    async def update(
        self,
        job: Job,
        *,
        expect: Iterable[JobStatus] | None = None,
        change: JobChange | None = None,
        actor: str | None = None,
        event_data: dict[str, Any] | None = None,
        **values: Any,
    ) -> Job:
        """Write `values` to the job only while its status is still one of `expect` (default:
        the status this copy was read with); raise CONFLICT when another process moved it."""
        change = change or JobChange()
        job_id = job.id  # read before a rollback could expire the instance
        expected = [s.value for s in (expect or [JobStatus(job.status)])]
        if values:
            result = await self.session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status.in_(expected))
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                await self.session.rollback()
                current = await self.get(job_id, client_id=None)
                raise Conflict(
                    f"job {job_id} is {current.status}, expected {' or '.join(expected)}",
                    status=JobStatus(current.status).name,
                )
            if "status" in values:
                await self.notifier.status_reached(
                    self.session, await self.get(job_id, client_id=None)
                )
        if change.event:
            self.session.add(
                JobEvent(
                    job_id=job_id,
                    type=change.event,
                    message=change.message,
                    actor=actor,
                    data=event_data
                    if change.scene_index is None
                    else {**(event_data or {}), "scene": change.scene_index},
                )
            )
        await self.session.commit()
        fresh = await self.get(job_id, client_id=None)
        await self.notifier.job_changed(fresh, change)
        return fresh

    async def transition(
        self,
        job: Job,
        target: JobStatus,
        *,
        change: JobChange | None = None,
        actor: str | None = None,
        **values: Any,
    ) -> Job:
        check_transition(JobStatus(job.status), target)
        return await self.update(
            job,
            change=change or JobChange(event=target.value),
            actor=actor,
            status=target.value,
            **values,
        )

    # -- predictions -------------------------------------------------------------------

    async def reusable_prediction(self, job_id: str, input_hash: str) -> Prediction | None:
        """The newest prediction of this job with the same inputs that did not fail: its
        result (or the run still in flight) is reused instead of paid for again."""
        query = (
            select(Prediction)
            .where(
                Prediction.job_id == job_id,
                Prediction.input_hash == input_hash,
                Prediction.status.in_(
                    [
                        PredictionStatus.SUCCEEDED.value,
                        PredictionStatus.RUNNING.value,
                        PredictionStatus.CREATING.value,
                    ]
                ),
            )
            .order_by(Prediction.created_at.desc())
            .limit(1)
        )
        return (await self.session.execute(query)).scalar()

    async def save_prediction(self, prediction: Prediction) -> Prediction:
        self.session.add(prediction)
        await self.session.commit()
        return prediction

    async def predictions(self, job_id: str) -> list[Prediction]:
        query = (
            select(Prediction).where(Prediction.job_id == job_id).order_by(Prediction.created_at)
        )
        return list((await self.session.execute(query)).scalars())

    async def running_predictions(self, job_id: str) -> list[Prediction]:
        query = select(Prediction).where(
            Prediction.job_id == job_id,
            Prediction.status == PredictionStatus.RUNNING.value,
            Prediction.external_id.is_not(None),
        )
        return list((await self.session.execute(query)).scalars())

    async def total_cost(self, job_id: str) -> float:
        query = select(func.coalesce(func.sum(Prediction.cost), 0.0)).where(
            Prediction.job_id == job_id
        )
        return float((await self.session.execute(query)).scalar_one() or 0.0)

    # -- exports -----------------------------------------------------------------------

    async def exports(self, job_id: str) -> list[Export]:
        query = select(Export).where(Export.job_id == job_id).order_by(Export.created_at, Export.id)
        return list((await self.session.execute(query)).scalars())

    async def find_export(
        self, job_id: str, source_asset_id: str, format_key: str
    ) -> Export | None:
        query = select(Export).where(
            Export.job_id == job_id,
            Export.source_asset_id == source_asset_id,
            Export.format_key == format_key,
        )
        return (await self.session.execute(query)).scalar()

    async def get_export(self, export_id: str) -> Export:
        export = await self.session.get(Export, export_id, populate_existing=True)
        if export is None:
            raise NotFound(f"export {export_id} not found", id=export_id)
        return export

    async def update_export(self, export_id: str, **values: Any) -> Export:
        """Exports are not part of the job row or its events: a plain committed write."""
        await self.session.execute(update(Export).where(Export.id == export_id).values(**values))
        await self.session.commit()
        return await self.get_export(export_id)

    async def save_exports(self, exports: Sequence[Export]) -> None:
        self.session.add_all(exports)
        await self.session.commit()
