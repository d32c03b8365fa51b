"""The only module that reads and writes jobs, predictions, exports and job events.

Every job write goes through `JobRepository.update`: a compare-and-set UPDATE (so an API
process and a worker never overwrite each other) flushed in the caller's unit of work;
cache invalidation and the progress event are registered to run after that unit commits.
Nothing here commits."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased

from reelforge.db import UnitOfWork
from reelforge.errors import BadUserInput, Conflict, NotFound
from reelforge.jobs.states import check_transition
from reelforge.models import (
    Asset,
    BudgetDay,
    Export,
    ExportStatus,
    Job,
    JobEvent,
    JobStatus,
    Prediction,
    PredictionStatus,
    as_utc,
    as_utc_iso,
    utcnow,
)

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
BUDGET_EPSILON = 1e-9  # dollars: float sums that equal the budget still fit


class JobNotifier(Protocol):
    """What happens around a job write: before its commit, what must be written with a new
    status (webhook deliveries); after it, cache invalidation, the event, the sending."""

    async def status_reached(self, unit: UnitOfWork, job: Job) -> None: ...

    async def invalidate(self, job_id: str) -> None: ...

    async def publish(self, payload: dict[str, Any]) -> None: ...

    async def committed(self) -> None: ...


@dataclass(frozen=True)
class JobChange:
    event: str | None = None
    message: str | None = None
    scene_index: int | None = None


class NullNotifier:
    async def status_reached(self, unit: UnitOfWork, job: Job) -> None:
        return None

    async def invalidate(self, job_id: str) -> None:
        return None

    async def committed(self) -> None:
        return None

    async def publish(self, payload: dict[str, Any]) -> None:
        return None


def progress_payload(job: Job, change: JobChange) -> dict[str, Any]:
    """The JSON every subscriber receives after a job write."""
    return {
        "jobId": job.id,
        "event": change.event,
        "status": job.status,
        "stage": job.stage,
        "progress": job.progress,
        "sceneIndex": change.scene_index,
        "message": change.message,
        "actualCost": float(job.actual_cost or 0.0),
        "estimatedCost": None if job.estimated_cost is None else float(job.estimated_cost),
        "updatedAt": as_utc_iso(job.updated_at),
    }


def budget_day() -> str:
    """The UTC day a reservation counts against (`budget_days.day`)."""
    return datetime.now(UTC).date().isoformat()


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
    def __init__(self, unit: UnitOfWork, notifier: JobNotifier | None = None) -> None:
        self.unit = unit
        self.session = unit.session
        self.notifier: JobNotifier = notifier or NullNotifier()

    def _announce(self, job: Job, change: JobChange) -> None:
        """After the unit commits: drop the cached copy, then tell the subscribers."""
        notifier, job_id, payload = self.notifier, job.id, progress_payload(job, change)

        async def invalidate() -> None:
            await notifier.invalidate(job_id)

        async def announce() -> None:
            await notifier.publish(payload)

        self.unit.after_commit(invalidate, key=f"invalidate:{job_id}")
        self.unit.after_commit(announce)
        self.unit.after_commit(notifier.committed, key=f"notifier:{id(notifier)}")

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
        first: int = DEFAULT_PAGE_SIZE,
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

    async def get_many(self, job_ids: Sequence[str], *, client_id: str) -> dict[str, Job]:
        if not job_ids:
            return {}
        query = select(Job).where(Job.id.in_(job_ids), Job.client_id == client_id)
        return {j.id: j for j in (await self.session.execute(query)).scalars()}

    async def events(self, job_id: str) -> list[JobEvent]:
        return (await self.events_of([job_id]))[job_id]

    async def events_of(self, job_ids: Sequence[str]) -> dict[str, list[JobEvent]]:
        """The events of several jobs in one query, each job's in order."""
        found: dict[str, list[JobEvent]] = {job_id: [] for job_id in job_ids}
        if job_ids:
            query = select(JobEvent).where(JobEvent.job_id.in_(job_ids)).order_by(JobEvent.id)
            for event in (await self.session.execute(query)).scalars():
                found[event.job_id].append(event)
        return found

    async def spend_since(self, client_id: str, since: datetime) -> float:
        """Dollars spent by a client's predictions since `since`."""
        query = (
            select(func.coalesce(func.sum(Prediction.cost), 0.0))
            .join(Job, Job.id == Prediction.job_id)
            .where(Job.client_id == client_id, Prediction.created_at >= since)
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
        await self.session.flush()
        self._announce(job, JobChange(event="created"))
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
                current = await self.get(job_id, client_id=None)
                raise Conflict(
                    f"job {job_id} is {current.status}, expected {' or '.join(expected)}",
                    status=JobStatus(current.status).name,
                )
            if "status" in values:
                await self.notifier.status_reached(
                    self.unit, await self.get(job_id, client_id=None)
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
        await self.session.flush()
        fresh = await self.get(job_id, client_id=None)
        self._announce(fresh, change)
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

    # -- the daily budget ----------------------------------------------------------------

    async def reserve_budget(self, client_id: str, day: str, amount: float, budget: float) -> bool:
        """Add `amount` to the client's committed spend for `day` only if it stays within
        `budget`: one conditional UPDATE, so concurrent reservations serialise on the row
        (a row lock on PostgreSQL, the write lock on SQLite) and can never overshoot."""
        await self._ensure_budget_day(client_id, day)
        result = await self.session.execute(
            update(BudgetDay)
            .where(
                BudgetDay.client_id == client_id,
                BudgetDay.day == day,
                BudgetDay.committed + amount <= budget + BUDGET_EPSILON,
            )
            .values(committed=BudgetDay.committed + amount)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def adjust_budget(self, client_id: str, day: str, delta: float) -> None:
        if delta:
            await self._ensure_budget_day(client_id, day)
            await self.session.execute(
                update(BudgetDay)
                .where(BudgetDay.client_id == client_id, BudgetDay.day == day)
                .values(committed=BudgetDay.committed + delta)
                .execution_options(synchronize_session=False)
            )

    async def release_reservation(self, job: Job) -> None:
        """Give back what `job` still holds reserved (before it reserves for a new stage)."""
        if job.reserved_cost and job.reserved_on:
            await self.adjust_budget(job.client_id, job.reserved_on, -float(job.reserved_cost))

    async def settle_budget(self, job: Job) -> dict[str, Any]:
        """Replace what `job` holds reserved by what its work cost since it was last settled.
        Returns the values to write on the job with the same unit of work."""
        spent = await self.total_cost(job.id)
        cost = spent - float(job.actual_cost or 0.0)
        delta = cost - float(job.reserved_cost or 0.0)
        await self.adjust_budget(job.client_id, job.reserved_on or budget_day(), delta)
        return {"actual_cost": spent, "reserved_cost": 0.0}

    async def committed_on(self, client_id: str, day: str) -> float:
        query = select(BudgetDay.committed).where(
            BudgetDay.client_id == client_id, BudgetDay.day == day
        )
        return float((await self.session.execute(query)).scalar() or 0.0)

    async def _ensure_budget_day(self, client_id: str, day: str) -> None:
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        await self.session.execute(
            insert(BudgetDay)
            .values(client_id=client_id, day=day, committed=0.0)
            .on_conflict_do_nothing(index_elements=["client_id", "day"])
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

    async def get_prediction(self, prediction_id: str) -> Prediction:
        prediction = await self.session.get(Prediction, prediction_id, populate_existing=True)
        if prediction is None:
            raise NotFound(f"prediction {prediction_id} not found", id=prediction_id)
        return prediction

    async def add_prediction(self, prediction: Prediction) -> Prediction:
        self.session.add(prediction)
        await self.session.flush()
        return prediction

    async def update_prediction(self, prediction_id: str, **values: Any) -> None:
        await self.session.execute(
            update(Prediction).where(Prediction.id == prediction_id).values(**values)
        )

    async def adopt_prediction(self, prediction_id: str, external_id: str) -> bool:
        """Give a recorded-but-unconfirmed prediction the id the provider shows for it; False
        when another run confirmed or retired it meanwhile."""
        holder = aliased(Prediction)
        result = await self.session.execute(
            update(Prediction)
            .where(
                Prediction.id == prediction_id,
                Prediction.status == PredictionStatus.CREATING.value,
                Prediction.external_id.is_(None),
                ~exists().where(holder.external_id == external_id),
            )
            .values(external_id=external_id, status=PredictionStatus.RUNNING.value)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def retire_unconfirmed(self, prediction_id: str, error: str) -> None:
        """Mark a recorded-but-unconfirmed prediction failed, unless another run confirmed
        (or adopted) it meanwhile."""
        await self.session.execute(
            update(Prediction)
            .where(
                Prediction.id == prediction_id,
                Prediction.status == PredictionStatus.CREATING.value,
                Prediction.external_id.is_(None),
            )
            .values(status=PredictionStatus.FAILED.value, error=error, completed_at=utcnow())
            .execution_options(synchronize_session=False)
        )

    async def claimed_external_ids(self, external_ids: Sequence[str]) -> set[str]:
        """Which of these provider ids a prediction row (of any job) already holds."""
        if not external_ids:
            return set()
        query = select(Prediction.external_id).where(Prediction.external_id.in_(external_ids))
        return {row for row in (await self.session.execute(query)).scalars() if row}

    async def unsettled_predictions(self, job_id: str) -> list[Prediction]:
        """The job's predictions that may still be running (or being created) at the provider."""
        query = select(Prediction).where(
            Prediction.job_id == job_id,
            Prediction.status.in_(
                [PredictionStatus.RUNNING.value, PredictionStatus.CREATING.value]
            ),
        )
        return list((await self.session.execute(query)).scalars())

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
        return (await self.exports_of([job_id]))[job_id]

    async def exports_of(self, job_ids: Sequence[str]) -> dict[str, list[Export]]:
        """The exports of several jobs in one query, each job's oldest first."""
        found: dict[str, list[Export]] = {job_id: [] for job_id in job_ids}
        if job_ids:
            query = (
                select(Export)
                .where(Export.job_id.in_(job_ids))
                .order_by(Export.created_at, Export.id)
            )
            for export in (await self.session.execute(query)).scalars():
                found[export.job_id].append(export)
        return found

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
        """Exports are not part of the job row or its events: a plain write."""
        await self.session.execute(update(Export).where(Export.id == export_id).values(**values))
        return await self.get_export(export_id)

    async def add_exports(self, exports: Sequence[Export]) -> None:
        self.session.add_all(exports)
        await self.session.flush()

    async def stale_exports(self, older_than: datetime) -> list[Export]:
        """Exports queued or processing since before `older_than`: their task was lost."""
        query = select(Export).where(
            Export.status.in_([ExportStatus.QUEUED.value, ExportStatus.PROCESSING.value]),
            Export.updated_at < older_than,
        )
        return list((await self.session.execute(query)).scalars())
