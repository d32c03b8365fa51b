"""The prediction ledger: the one path for paid work.

Before a provider is called the ledger looks for a prediction of this job with the same
inputs: a succeeded one is answered from what was stored (its output asset, or the plan's
scenes in `predictions.output`) without calling the provider; one still running is
resumed by its external id; otherwise a row is reserved (`creating`) before the create
call, marked `running` with its external id the moment the provider accepted it, and
settled (`succeeded`, its cost and output, in the same unit as the output's asset) or
failed. A retried, resumed or re-rendered job never pays twice for the same work.

Where a crash leaves a row recorded but never confirmed (the create was sent, its answer
never recorded), the provider is asked whether the prediction exists (its list of recent
predictions, matched on model and input) and the row adopts it; only a prediction the
provider does not know of is created again. A paid output the provider removed before we
copied it is bought again only as a recorded decision: an event on the job that says so, and
`provider_outputs_expired_total`. Every paid prediction's cost is the provider's own answer,
recorded whether the job succeeds, fails or is canceled; a canceled job creates nothing more,
and a create that was in flight when it was canceled is stopped the moment it is confirmed.

Each step is a unit of work of its own; none is held while the provider works."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from reelforge.config import Settings
from reelforge.db import UnitOfWork
from reelforge.jobs.repository import JobChange
from reelforge.jobs.run import JobCanceled, Run
from reelforge.models import (
    Asset,
    AssetKind,
    JobStatus,
    Prediction,
    PredictionStatus,
    as_utc,
    utcnow,
)
from reelforge.observability.metrics import COST_ACTUAL, OUTPUTS_EXPIRED, PREDICTIONS
from reelforge.providers.base import (
    AnyRequest,
    ClipRequest,
    MediaResult,
    OnCreated,
    OutputRemoved,
    PredictionKind,
    PredictionMeta,
    ProviderError,
    StillRequest,
    paid_work,
)
from reelforge.storage.repository import AssetRepository
from reelforge.storage.service import AssetStore

R = TypeVar("R")


@dataclass(frozen=True)
class RetryPolicy:
    """The one retry policy of paid work: `retries` more attempts after the first, for
    errors the provider calls retryable, waiting `backoff` doubled on each retry."""

    retries: int
    backoff: float  # seconds before the first retry

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(settings.prediction_retries, settings.prediction_retry_backoff.total_seconds())

    @property
    def attempts(self) -> int:
        return self.retries + 1

    def delay(self, attempt: int) -> float:
        return float(self.backoff * 2**attempt)

    def should_retry(self, exc: ProviderError, attempt: int) -> bool:
        return exc.retryable and attempt < self.retries


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """A settled prediction and what it produced: the stored asset or the stored output."""

    prediction_id: str
    asset: Asset | None
    output: dict[str, Any] | None


@dataclass(frozen=True)
class Reserved:
    prediction_id: str
    existing_id: str | None  # running at the provider already: resume it, do not pay again


@dataclass(frozen=True)
class Unconfirmed:
    """A row recorded before a create whose answer never came back."""

    prediction_id: str
    created_at: datetime


def work_name(kind: PredictionKind, scene_index: int | None) -> str:
    """How a piece of paid work is named to people: "scene 2", "the storyboard plan"."""
    if scene_index is not None:
        return f"scene {scene_index}"
    return {PredictionKind.PLAN: "the storyboard plan", PredictionKind.MUSIC: "the music bed"}.get(
        kind, f"the {kind.value}"
    )


# Seconds settle_abandoned waits for a canceled prediction to report how it ended.
FINAL_WAIT = (0.2, 0.5, 1.0, 2.0, 4.0)


# What the provider call returns, turned into what is stored: an asset (made in the
# settling unit) and/or a JSON output.
Store = Callable[[UnitOfWork, R], Awaitable[tuple[Asset | None, dict[str, Any] | None]]]
Call = Callable[[str | None, OnCreated], Awaitable[R]]


class Ledger:
    def __init__(self, run: Run) -> None:
        self.run = run
        self.rt = run.runtime
        self.policy = RetryPolicy.from_settings(self.rt.settings)

    async def predict(
        self,
        kind: PredictionKind,
        request: AnyRequest,
        call: Call[R],
        store: Store[R],
        meta: Callable[[R], PredictionMeta],
        *,
        scene_index: int | None = None,
    ) -> Outcome[R]:
        model, digest = paid_work(self.rt.provider, kind, request)
        attempt = 0
        regenerated = False
        while True:
            decision = await self.reuse_or_reserve(kind, request, model, digest, scene_index)
            if isinstance(decision, Outcome):
                return decision
            try:
                async with self.run.limits.predictions:
                    result = await call(decision.existing_id, self.on_created(decision, kind))
            except OutputRemoved as exc:
                if await self.fail(decision.prediction_id, exc):
                    raise JobCanceled from exc
                if regenerated:  # removed twice in a row: not something to keep paying for
                    raise
                regenerated = True
                await self.regenerate(kind, exc, scene_index)
                continue
            except ProviderError as exc:
                if await self.fail(decision.prediction_id, exc):
                    raise JobCanceled from exc
                PREDICTIONS.labels(kind=kind.value, outcome="failed").inc()
                if not self.policy.should_retry(exc, attempt):
                    raise
                delay = self.policy.delay(attempt)
                attempt += 1
                self.run.log.warning(
                    "prediction.retry",
                    kind=kind.value,
                    scene=scene_index,
                    delay=delay,
                    error=str(exc),
                )
                await self.run.note_retry(
                    f"{work_name(kind, scene_index)}: the {kind.value} model failed, "
                    f"trying again: {exc}",
                    scene_index,
                )
                await asyncio.sleep(delay)
                continue
            outcome = await self.settle(decision.prediction_id, result, store, meta(result))
            COST_ACTUAL.labels(model=model).inc(meta(result).cost)
            PREDICTIONS.labels(kind=kind.value, outcome="succeeded").inc()
            return outcome

    async def media(
        self,
        kind: PredictionKind,
        request: StillRequest | ClipRequest,
        *,
        client_id: str,
        scene_index: int,
    ) -> Asset:
        """A still or a clip, its bytes stored as an asset of the job when it settles."""
        provider, blobs, job_id = self.rt.provider, self.rt.blobs, self.run.job_id

        async def call(existing_id: str | None, on_created: OnCreated) -> MediaResult:
            if isinstance(request, StillRequest):
                return await provider.still(request, existing_id=existing_id, on_created=on_created)
            return await provider.clip(request, existing_id=existing_id, on_created=on_created)

        async def store(unit: UnitOfWork, result: MediaResult) -> tuple[Asset, None]:
            asset = await AssetStore(unit, blobs).store_bytes(
                result.data,
                client_id=client_id,
                job_id=job_id,
                kind=AssetKind.IMAGE if kind is PredictionKind.IMAGE else AssetKind.CLIP,
                content_type=result.content_type,
            )
            return asset, None

        outcome = await self.predict(
            kind, request, call, store, lambda r: r.meta, scene_index=scene_index
        )
        assert outcome.asset is not None
        return outcome.asset

    async def reuse_or_reserve(
        self,
        kind: PredictionKind,
        request: AnyRequest,
        model: str,
        digest: str,
        scene_index: int | None,
    ) -> Outcome[Any] | Reserved:
        decision = await self._look(kind, model, digest, scene_index)
        while isinstance(decision, Unconfirmed):
            # A create was sent and its answer never recorded: it may exist (and be paid
            # for) at the provider. Ask before paying again, outside any unit. (Several such
            # rows may be left by runs cut short one after the other: each is asked about.)
            adopted = await self._adopt(decision, request, kind, scene_index)
            retire = decision.prediction_id
            decision = adopted or await self._look(kind, model, digest, scene_index, retire=retire)
        if isinstance(decision, Reserved) and decision.existing_id is None:
            self.run.requests[decision.prediction_id] = request
        return decision

    async def _look(
        self,
        kind: PredictionKind,
        model: str,
        digest: str,
        scene_index: int | None,
        *,
        retire: str | None = None,
    ) -> Outcome[Any] | Reserved | Unconfirmed:
        async with self.rt.unit() as unit:
            repo = self.rt.jobs(unit)
            if retire is not None:  # unconfirmed, and the provider shows nothing for it
                await repo.retire_unconfirmed(
                    retire,
                    "the create call was lost before the provider confirmed it, and the "
                    "provider shows no such prediction",
                )
            job = await repo.get(self.run.job_id, client_id=None)
            prediction = await repo.reusable_prediction(self.run.job_id, digest)
            if prediction is not None and prediction.status == PredictionStatus.SUCCEEDED.value:
                asset = None
                if prediction.output_asset_id:
                    asset = await AssetRepository(unit).get(
                        prediction.output_asset_id, client_id=None
                    )
                if asset is not None or prediction.output is not None:
                    PREDICTIONS.labels(kind=kind.value, outcome="reused").inc()
                    return Outcome(prediction.id, asset, prediction.output)
                # Paid, but nothing of it was stored: fetch it by id.
                return Reserved(prediction.id, prediction.external_id)
            if job.status == JobStatus.CANCELED.value:
                raise JobCanceled  # nothing is created (or resumed) for a canceled job
            if prediction is not None and prediction.external_id:
                PREDICTIONS.labels(kind=kind.value, outcome="resumed").inc()
                return Reserved(prediction.id, prediction.external_id)
            if prediction is not None:
                return Unconfirmed(prediction.id, as_utc(prediction.created_at))
            reserved = await repo.add_prediction(
                Prediction(
                    job_id=self.run.job_id,
                    scene_index=scene_index,
                    kind=kind.value,
                    provider=self.rt.provider.name,
                    model=model,
                    input_hash=digest,
                    status=PredictionStatus.CREATING.value,
                    cost=0.0,
                )
            )
            return Reserved(reserved.id, None)

    async def _adopt(
        self,
        row: Unconfirmed,
        request: AnyRequest,
        kind: PredictionKind,
        scene_index: int | None,
    ) -> Reserved | None:
        """The provider's prediction for an unconfirmed row, adopted; None when it has none.
        A provider that cannot answer raises (retryable): "unknown" is not "not there"."""
        try:
            found = await self.rt.provider.find(request, since=row.created_at)
        except ProviderError as exc:
            raise ProviderError(
                f"could not check with the provider whether {work_name(kind, scene_index)}'s "
                f"{kind.value} was already created ({exc}); will try again",
                retryable=True,
            ) from exc
        if not found:
            self.run.log.info(
                "prediction.unconfirmed.not_found", kind=kind.value, scene=scene_index
            )
            return None
        async with self.rt.unit() as unit:
            repo = self.rt.jobs(unit)
            claimed = await repo.claimed_external_ids(found)
            free = [pid for pid in found if pid not in claimed]
            # Oldest first: the one our lost create made, not a later one of someone else.
            if not free or not await repo.adopt_prediction(row.prediction_id, free[-1]):
                return None
        PREDICTIONS.labels(kind=kind.value, outcome="adopted").inc()
        self.run.log.warning(
            "prediction.adopted", kind=kind.value, scene=scene_index, prediction=free[-1]
        )
        return Reserved(row.prediction_id, free[-1])

    def on_created(self, decision: Reserved, kind: PredictionKind) -> OnCreated:
        """What the provider calls right after a create succeeded: the external id is
        committed before any waiting starts, so a crash later resumes instead of paying
        again. A job canceled while the create was in flight raises JobCanceled here, and the
        provider stops the prediction at once."""

        async def mark_created(external_id: str) -> None:
            async with self.rt.unit() as unit:
                repo = self.rt.jobs(unit)
                await repo.update_prediction(
                    decision.prediction_id,
                    external_id=external_id,
                    status=PredictionStatus.RUNNING.value,
                )
                job = await repo.get(self.run.job_id, client_id=None)
                canceled = job.status == JobStatus.CANCELED.value
            PREDICTIONS.labels(kind=kind.value, outcome="created").inc()
            if canceled:
                self.run.log.info("prediction.canceled_on_create", prediction=external_id)
                raise JobCanceled

        return mark_created

    async def settle(
        self, prediction_id: str, result: R, store: Store[R], meta: PredictionMeta
    ) -> Outcome[R]:
        """Store the output and mark the prediction succeeded, in one unit: a crash before
        its commit leaves a running prediction that is resumed, never bought again."""
        async with self.rt.unit() as unit:
            asset, output = await store(unit, result)
            await self.rt.jobs(unit).update_prediction(
                prediction_id,
                external_id=meta.external_id,
                status=PredictionStatus.SUCCEEDED.value,
                predict_time=meta.predict_time,
                cost=meta.cost,
                output_asset_id=asset.id if asset else None,
                output=output,
                completed_at=utcnow(),
            )
        return Outcome(prediction_id, asset, output)

    async def fail(self, prediction_id: str, exc: ProviderError) -> bool:
        """Record a failed prediction with what the provider billed for it; True when the
        job was canceled meanwhile."""
        async with self.rt.unit() as unit:
            repo = self.rt.jobs(unit)
            job = await repo.get(self.run.job_id, client_id=None)
            canceled = job.status == JobStatus.CANCELED.value
            values: dict[str, Any] = {}
            if exc.external_id:
                values["external_id"] = exc.external_id
            await repo.update_prediction(
                prediction_id,
                status=(PredictionStatus.CANCELED if canceled else PredictionStatus.FAILED).value,
                error=str(exc)[:2000],
                cost=exc.cost,
                completed_at=utcnow(),
                **values,
            )
        if exc.cost:
            COST_ACTUAL.labels(model=self.rt.provider.name).inc(exc.cost)
        return canceled

    async def regenerate(
        self, kind: PredictionKind, exc: OutputRemoved, scene_index: int | None
    ) -> None:
        """Say, on the job and in the metrics, that paid work is bought again because the
        provider removed its output before it was saved."""
        message = (
            f"{work_name(kind, scene_index)}: provider output expired before it was saved; "
            "regenerated"
        )
        OUTPUTS_EXPIRED.labels(kind=kind.value, action="regenerated").inc()
        self.run.log.warning(
            "prediction.output_expired",
            kind=kind.value,
            scene=scene_index,
            prediction=exc.external_id,
            cost=exc.cost,
        )
        await self.run.note(
            JobChange(event="output_expired", scene_index=scene_index, message=message)
        )

    async def settle_abandoned(self, *, stop: bool) -> None:
        """Record what the job's predictions nobody waits for any more cost, from the
        provider's answer: after a cancel or a failure. `stop`: cancel them at the provider
        first. A row whose create was in flight is looked up (and adopted) first, so a create
        that landed after the job stopped is stopped too and its cost counted."""
        async with self.rt.unit() as unit:
            rows = await self.rt.jobs(unit).unsettled_predictions(self.run.job_id)
        provider = self.rt.provider
        for row in rows:
            external_id = row.external_id
            try:
                if external_id is None:
                    request = self.run.requests.get(row.id)
                    if request is None:
                        continue  # another run's: the next run of the job looks it up
                    found = await provider.find(request, since=as_utc(row.created_at))
                    external_id = await self._adopt_any(row, found)
                if external_id is None:
                    continue
                final = await provider.final(external_id)
                if final is None and stop:
                    await provider.cancel(external_id)  # still running: stop paying for it
                    for pause in FINAL_WAIT:
                        final = await provider.final(external_id)
                        if final is not None:
                            break
                        await asyncio.sleep(pause)
            except (ProviderError, NotImplementedError) as exc:
                self.run.log.warning(
                    "prediction.settle_failed", prediction=row.id, error=str(exc)[:300]
                )
                continue
            if final is None:
                continue  # still running: a retry resumes it, and records it then
            status = final.extra.get("status")
            async with self.rt.unit() as unit:
                await self.rt.jobs(unit).update_prediction(
                    row.id,
                    external_id=external_id,
                    status=(
                        PredictionStatus.SUCCEEDED
                        if status == "succeeded"
                        else PredictionStatus.CANCELED
                        if status in ("canceled", "aborted")
                        else PredictionStatus.FAILED
                    ).value,
                    predict_time=final.predict_time,
                    cost=final.cost,
                    completed_at=utcnow(),
                )
            self.run.log.info(
                "prediction.settled_abandoned",
                prediction=external_id,
                status=status,
                cost=final.cost,
            )

    async def _adopt_any(self, row: Prediction, found: list[str]) -> str | None:
        async with self.rt.unit() as unit:
            repo = self.rt.jobs(unit)
            claimed = await repo.claimed_external_ids(found)
            free = [pid for pid in found if pid not in claimed]
            if free and await repo.adopt_prediction(row.id, free[-1]):
                return free[-1]
            await repo.retire_unconfirmed(
                row.id, "the create call was lost and the provider shows no such prediction"
            )
        return None
