"""The prediction ledger: the one path for paid work.

Before a provider is called the ledger looks for a prediction of this job with the same
inputs: a succeeded one is answered from what was stored (its output asset, or the plan's
scenes in `predictions.output`) without calling the provider; one still running is
resumed by its external id; otherwise a row is reserved (`creating`) before the create
call, marked `running` with its external id the moment the provider accepted it, and
settled (`succeeded`, its cost and output, in the same unit as the output's asset) or
failed. A retried, resumed or re-rendered job never pays twice for the same work.

Each step is a unit of work of its own; none is held while the provider works."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from reelforge.config import Settings
from reelforge.db import UnitOfWork
from reelforge.jobs.run import JobCanceled, Run
from reelforge.models import Asset, AssetKind, JobStatus, Prediction, PredictionStatus, utcnow
from reelforge.observability.metrics import COST_ACTUAL, PREDICTIONS
from reelforge.providers.base import (
    AnyRequest,
    ClipRequest,
    MediaResult,
    OnCreated,
    PredictionKind,
    PredictionMeta,
    ProviderError,
    StillRequest,
    input_hash,
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
        model = self.rt.provider.model_for(kind)
        digest = input_hash(kind, model, request)
        for attempt in range(self.policy.attempts):
            decision = await self.reuse_or_reserve(kind, model, digest, scene_index)
            if isinstance(decision, Outcome):
                return decision
            try:
                async with self.run.limits.predictions:
                    result = await call(decision.existing_id, self.on_created(decision, kind))
            except ProviderError as exc:
                if await self.fail(decision.prediction_id, exc):
                    raise JobCanceled from exc
                PREDICTIONS.labels(kind=kind.value, outcome="failed").inc()
                if not self.policy.should_retry(exc, attempt):
                    raise
                delay = self.policy.delay(attempt)
                self.run.log.warning(
                    "prediction.retry",
                    kind=kind.value,
                    scene=scene_index,
                    delay=delay,
                    error=str(exc),
                )
                await self.run.note_retry(f"{kind.value} failed, retrying: {exc}", scene_index)
                await asyncio.sleep(delay)
                continue
            outcome = await self.settle(decision.prediction_id, result, store, meta(result))
            COST_ACTUAL.labels(model=model).inc(meta(result).cost)
            PREDICTIONS.labels(kind=kind.value, outcome="succeeded").inc()
            return outcome
        raise AssertionError("unreachable")

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
        self, kind: PredictionKind, model: str, digest: str, scene_index: int | None
    ) -> Outcome[Any] | Reserved:
        async with self.rt.unit() as unit:
            repo = self.rt.jobs(unit)
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
                # Paid, but nothing of it was stored (before migration 0003): fetch it by id.
                return Reserved(prediction.id, prediction.external_id)
            if prediction is not None and prediction.external_id:
                PREDICTIONS.labels(kind=kind.value, outcome="resumed").inc()
                return Reserved(prediction.id, prediction.external_id)
            if prediction is not None:
                # Recorded but never confirmed created (a crash mid-create): retire it.
                await repo.update_prediction(
                    prediction.id,
                    status=PredictionStatus.FAILED.value,
                    error="lost before the provider confirmed it",
                    completed_at=utcnow(),
                )
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

    def on_created(self, decision: Reserved, kind: PredictionKind) -> OnCreated:
        """What the provider calls right after a create succeeded: the external id is
        committed before any waiting starts, so a crash later resumes instead of paying
        again."""

        async def mark_created(external_id: str) -> None:
            async with self.rt.unit() as unit:
                await self.rt.jobs(unit).update_prediction(
                    decision.prediction_id,
                    external_id=external_id,
                    status=PredictionStatus.RUNNING.value,
                )
            PREDICTIONS.labels(kind=kind.value, outcome="created").inc()

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
        """Record a failed prediction; True when the job was canceled meanwhile."""
        async with self.rt.unit() as unit:
            repo = self.rt.jobs(unit)
            job = await repo.get(self.run.job_id, client_id=None)
            canceled = job.status == JobStatus.CANCELED.value
            await repo.update_prediction(
                prediction_id,
                status=(PredictionStatus.CANCELED if canceled else PredictionStatus.FAILED).value,
                error=str(exc)[:2000],
                completed_at=utcnow(),
            )
        return canceled
