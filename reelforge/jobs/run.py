"""One job on the worker: every read and write of its row, each a unit of work of its own
(one session, one commit, the progress event after it). No unit is held while a provider,
FFmpeg or storage is working, so a long render never keeps a pooled connection."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from reelforge.db import is_transient
from reelforge.errors import Conflict, ReelforgeError
from reelforge.jobs.params import JobParams
from reelforge.jobs.repository import JobChange, JobRepository
from reelforge.jobs.scenes import Scene, dump_scenes, load_scenes
from reelforge.media.ffmpeg import FFmpegError
from reelforge.models import Asset, AssetKind, Job, JobStatus
from reelforge.observability.metrics import JOB_FAILURES, JOBS_FINISHED
from reelforge.providers.base import AnyRequest, ProviderError, WorkAbandoned
from reelforge.runtime import Runtime
from reelforge.storage.repository import AssetRepository
from reelforge.storage.service import AssetStore

log = structlog.get_logger(__name__)


class JobCanceled(WorkAbandoned):
    """The job was canceled (or moved on) by someone else: stop quietly (and stop paying)."""


@dataclass
class Limits:
    """Concurrency shared by every job of one worker process."""

    predictions: asyncio.Semaphore  # paid calls in flight (GLOBAL_CONCURRENCY)
    encodes: asyncio.Semaphore  # FFmpeg encodes: x264 uses every core already


@dataclass
class Run:
    runtime: Runtime
    job_id: str
    limits: Limits
    scenes: asyncio.Semaphore = field(init=False)  # scenes of this job at once
    write_lock: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)
    # What each prediction this run reserved asks for, by row id: a create in flight when
    # the run stopped is looked up at the provider with it.
    requests: dict[str, AnyRequest] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.scenes = asyncio.Semaphore(self.runtime.settings.scene_concurrency)
        self.log = log.bind(job_id=self.job_id)

    # -- the job row -------------------------------------------------------------------

    async def read(self) -> Job:
        async with self.runtime.unit() as unit:
            return await self.runtime.jobs(unit).get(self.job_id, client_id=None)

    async def write(self, mutate: Callable[[JobRepository, Job], Awaitable[Job]]) -> Job:
        """One job write on a fresh copy of the row, in a unit of its own, one writer per
        job at a time (scene results arrive concurrently). A job canceled or moved on by
        someone else stops the run."""
        async with self.write_lock, self.runtime.unit() as unit:
            repo = self.runtime.jobs(unit)
            job = await repo.get(self.job_id, client_id=None)
            if job.status == JobStatus.CANCELED.value:
                raise JobCanceled
            try:
                return await mutate(repo, job)
            except Conflict as exc:
                raise JobCanceled from exc

    async def update_scene(
        self, scene: Scene, *, progress: Callable[[list[Scene]], int], change: JobChange
    ) -> Job:
        async def mutate(repo: JobRepository, job: Job) -> Job:
            scenes = load_scenes(job.storyboard_data)
            scenes[scene.index] = scene
            return await repo.update(
                job,
                change=change,
                storyboard_data=dump_scenes(scenes),
                progress=max(job.progress, progress(scenes)),
            )

        return await self.write(mutate)

    async def finish(self, target: JobStatus, *, change: JobChange, **values: Any) -> Job:
        """Move the job to `target` at the end of a stage, settling its budget reservation
        against what the stage really cost, in the same unit."""

        async def mutate(repo: JobRepository, job: Job) -> Job:
            settled = await repo.settle_budget(job)
            return await repo.transition(job, target, change=change, **values, **settled)

        return await self.write(mutate)

    async def note(self, change: JobChange) -> None:
        """An event on the job (and to its subscribers) that changes nothing else."""

        async def mutate(repo: JobRepository, job: Job) -> Job:
            return await repo.update(job, change=change, progress=job.progress)

        await self.write(mutate)

    async def note_retry(self, message: str, scene_index: int | None) -> None:
        """Count a retry on the job and say why, so the client sees it happening."""

        async def mutate(repo: JobRepository, job: Job) -> Job:
            return await repo.update(
                job,
                change=JobChange(
                    event="prediction_retry", scene_index=scene_index, message=message[:500]
                ),
                retry_count=job.retry_count + 1,
                error_message=message[:2000],
            )

        await self.write(mutate)

    async def fail(self, stage: str, exc: BaseException) -> None:
        reason = type(exc).__name__
        reference = uuid.uuid4().hex[:12]
        self.log.error(
            "job.failed",
            stage=stage,
            reason=reason,
            error=str(exc) or reason,
            reference=reference,
            exc_info=not isinstance(exc, ProviderError),
        )
        JOB_FAILURES.labels(stage=stage, reason=reason).inc()
        JOBS_FINISHED.labels(status=JobStatus.FAILED.value).inc()
        message = failure_message(stage, exc, reference)
        try:
            await self.finish(
                JobStatus.FAILED,
                error_message=message[:2000],
                change=JobChange(event="failed", message=message[:500]),
            )
        except JobCanceled:  # canceled meanwhile: that state stands
            await self.settle_canceled()

    async def settle_canceled(self) -> None:
        """Record what a canceled job paid, and give back what it still held reserved."""
        async with self.write_lock, self.runtime.unit() as unit:
            repo = self.runtime.jobs(unit)
            job = await repo.get(self.job_id, client_id=None)
            if job.status != JobStatus.CANCELED.value:
                return
            settled = await repo.settle_budget(job)
            if settled["actual_cost"] != float(job.actual_cost or 0.0) or job.reserved_cost:
                await repo.update(job, **settled)

    async def spent(self) -> float:
        """What this job's predictions have cost so far."""
        async with self.runtime.unit() as unit:
            return await self.runtime.jobs(unit).total_cost(self.job_id)

    # -- assets ------------------------------------------------------------------------

    async def asset(self, asset_id: str) -> Asset:
        async with self.runtime.unit() as unit:
            return await AssetRepository(unit).get(asset_id, client_id=None)

    async def blob(self, asset_id: str) -> tuple[Asset, bytes]:
        asset = await self.asset(asset_id)
        return asset, await self.runtime.blobs.read_bytes(asset.storage_key)

    async def store_file(
        self, path: Path, *, client_id: str, kind: AssetKind, content_type: str
    ) -> Asset:
        async with self.runtime.unit() as unit:
            return await AssetStore(unit, self.runtime.blobs).store_file(
                path, client_id=client_id, job_id=self.job_id, kind=kind, content_type=content_type
            )


def failure_message(stage: str, exc: BaseException, reference: str) -> str:
    """What a client reads about a failed job: written for people. A provider's answer and
    our own domain errors are worded for them already; anything else (a database, a bug) is
    named only by a reference to the server log, never by its exception text."""
    if isinstance(exc, ProviderError):
        return f"{stage} failed: {exc}"
    if isinstance(exc, ReelforgeError):
        return f"{stage} failed: {exc.message}"
    if isinstance(exc, FFmpegError):
        return f"{stage} failed: a clip could not be encoded (reference {reference})"
    if is_transient(exc):
        return (
            f"{stage} failed: the database was unavailable for too long; retry the job "
            f"(reference {reference})"
        )
    return f"{stage} failed: an internal error occurred (reference {reference})"


def job_params(job: Job) -> JobParams:
    return JobParams.from_json(job.prompt, job.campaign_id, job.params)


def scene_seed(job_id: str, index: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{job_id}:{index}".encode()).digest()[:4], "big")


def band(bounds: tuple[int, int], done: int, total: int) -> int:
    low, high = bounds
    return low + (high - low) * done // max(total, 1)


async def gather_all(coroutines: list[Awaitable[None]]) -> None:
    """Run all; on the first failure cancel the rest and raise it (no orphan work)."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
