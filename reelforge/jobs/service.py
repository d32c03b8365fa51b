"""The job rules: who may do what, in which state, for how much. Resolvers call this with
the operation's unit of work; it calls the repositories (which only flush) and queues
tasks to run after that unit commits."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import UTC, datetime, time

import structlog

from reelforge.auth import Principal
from reelforge.brands.service import BrandService
from reelforge.db import UnitOfWork
from reelforge.errors import BadUserInput, BudgetExceeded, Conflict, Forbidden
from reelforge.jobs.params import DEFAULT_VOICE, ExportTarget, JobParams, validated_narration
from reelforge.jobs.queue import Task, abort_task, enqueue_after_commit
from reelforge.jobs.repository import JobChange, JobPage, budget_day
from reelforge.jobs.scenes import dump_scenes, load_scenes
from reelforge.jobs.states import require
from reelforge.models import AssetKind, Export, ExportStatus, Job, JobStatus, new_id, utcnow
from reelforge.observability.metrics import JOBS_CREATED, STORYBOARDS_APPROVED
from reelforge.providers.base import (
    ANY_LANGUAGE,
    SPEAKING_RATE_WPS,
    MusicProvider,
    PredictionKind,
    SpeechProvider,
    Voice,
)
from reelforge.runtime import Runtime
from reelforge.storage.deletion import delete_job_media
from reelforge.storage.repository import AssetRepository

log = structlog.get_logger(__name__)


def start_of_day() -> datetime:
    return datetime.combine(datetime.now(UTC).date(), time.min, tzinfo=UTC)


class JobService:
    def __init__(self, runtime: Runtime, unit: UnitOfWork, principal: Principal) -> None:
        self.rt = runtime
        self.unit = unit
        self.principal = principal
        self.repo = runtime.jobs(unit)
        self.assets = AssetRepository(unit)

    def _enqueue(self, task: Task, entity_id: str) -> None:
        enqueue_after_commit(self.unit, self.rt.queue, task, entity_id)

    # -- reads -------------------------------------------------------------------------

    async def get(self, job_id: str) -> Job:
        """Through the cache; scoped to the caller's client either way."""
        cached = await self.rt.cache.get(job_id)
        if cached is not None and cached.client_id == self.principal.client_id:
            return cached
        job = await self.repo.get(job_id, client_id=self.principal.client_id)
        await self.rt.cache.set(job)
        return job

    async def list_jobs(
        self,
        *,
        first: int,
        after: str | None,
        status: JobStatus | None,
        campaign_id: str | None,
    ) -> JobPage:
        return await self.repo.list_jobs(
            self.principal.client_id,
            first=first,
            after=after,
            status=status,
            campaign_id=campaign_id,
        )

    async def spend_today(self) -> float:
        return await self.repo.spend_since(self.principal.client_id, start_of_day())

    # -- estimates and budget ----------------------------------------------------------

    def estimate_storyboard(self, params: JobParams) -> float:
        provider = self.rt.provider
        uploaded = len(params.referenced_asset_ids)
        plan = 0.0 if params.scenes else provider.estimate_cost(PredictionKind.PLAN)
        count = params.scene_count or 0
        return plan + max(0, count - uploaded) * provider.estimate_cost(PredictionKind.IMAGE)

    def estimate_render(self, params: JobParams) -> float:
        """Before the storyboard exists: clips, and the voice-over and bed when asked for
        (narration sized at the speaking rate, about six characters a word)."""
        provider = self.rt.provider
        count = params.scene_count or 1
        per_scene = params.duration / count
        total = count * provider.estimate_cost(
            PredictionKind.VIDEO, duration=per_scene, aspect_ratio=params.aspect_ratio
        )
        if params.voice is not None and isinstance(provider, SpeechProvider):
            words = round(params.duration * SPEAKING_RATE_WPS)
            total += provider.estimate_speech(" ".join(["words"] * words))
        wants_bed = params.music is not None and params.music_asset_id is None
        if wants_bed and isinstance(provider, MusicProvider):
            total += provider.estimate_music(params.duration)
        return total

    async def budget_remaining(self) -> float | None:
        """Dollars the client may still commit today (None: no budget): the budget less
        today's reservations of work in flight and the cost of work already settled."""
        budget = self.rt.settings.daily_budget_dollars
        if budget is None:
            return None
        committed = await self.repo.committed_on(self.principal.client_id, budget_day())
        return max(0.0, budget - committed)

    async def reserve(self, amount: float) -> str:
        """Reserve `amount` of today's budget in this unit of work (undone if it rolls
        back); BUDGET_EXCEEDED when it does not fit. Returns the day it counts against."""
        day = budget_day()
        budget = self.rt.settings.daily_budget_dollars
        client_id = self.principal.client_id
        if budget is None or amount <= 0:
            await self.repo.adjust_budget(client_id, day, max(amount, 0.0))
            return day
        if not await self.repo.reserve_budget(client_id, day, amount, budget):
            left = max(0.0, budget - await self.repo.committed_on(client_id, day))
            raise BudgetExceeded(
                f"this needs about ${amount:.2f} but only ${left:.2f} of today's "
                f"${budget:.2f} budget is left",
                estimate=round(amount, 4),
                remaining=round(left, 4),
            )
        return day

    async def reserve_for(self, job: Job, amount: float) -> dict[str, object]:
        """Reserve `amount` for `job`'s next stage: the values to write on the job."""
        await self.repo.release_reservation(job)
        return {"reserved_cost": amount, "reserved_on": await self.reserve(amount)}

    # -- mutations ---------------------------------------------------------------------

    def voices(self, language: str | None = None) -> list[Voice]:
        """The provider's voices, those of one language (or its base language) if asked."""
        provider = self.rt.provider
        voices = provider.voices() if isinstance(provider, SpeechProvider) else []
        if language:
            base = language.split("-")[0].lower()
            voices = [
                v
                for v in voices
                if v.language == ANY_LANGUAGE or v.language.split("-")[0].lower() == base
            ]
        return voices

    def resolve_voice(self, params: JobParams) -> str | None:
        """The voice id the job speaks with: the language's default, or the one chosen."""
        provider = self.rt.provider
        if params.voice is None or not isinstance(provider, SpeechProvider):
            if params.voice not in (None, DEFAULT_VOICE):
                raise BadUserInput(f"the {provider.name} provider has no voices", field="voice")
            return None
        if params.voice == DEFAULT_VOICE:
            return provider.default_voice(params.language or "en")
        if params.voice not in {v.id for v in provider.voices()}:
            raise BadUserInput(
                f"unknown voice {params.voice!r}; the voices query lists them", field="voice"
            )
        return params.voice

    async def create(self, params: JobParams) -> Job:
        params = params.validated()
        params = replace(params, voice=self.resolve_voice(params))
        if params.brand_kit_id is not None:
            # The job keeps a copy: changing or deleting the kit later never changes it.
            brand = await BrandService(self.unit, self.principal).brand(params.brand_kit_id)
            params = replace(params, brand=brand)
        if params.music_asset_id is not None:
            found = await self.assets.get_many(
                [params.music_asset_id], client_id=self.principal.client_id
            )
            track = found.get(params.music_asset_id)
            if track is None or track.kind != AssetKind.UPLOAD.value:
                raise BadUserInput(f"asset {params.music_asset_id} not found", field="musicAssetId")
            if not track.content_type.startswith("audio/"):
                raise BadUserInput(
                    "musicAssetId must be an uploaded audio track (mp3, wav, m4a)",
                    field="musicAssetId",
                )
        assets = await self.assets.get_many(
            params.referenced_asset_ids, client_id=self.principal.client_id
        )
        for asset_id in params.referenced_asset_ids:
            asset = assets.get(asset_id)
            if asset is None:
                raise BadUserInput(f"asset {asset_id} not found", field="assetIds")
            if asset.kind != AssetKind.UPLOAD.value:
                raise BadUserInput(f"asset {asset_id} is not an upload", field="assetIds")
        storyboard_estimate = self.estimate_storyboard(params)
        day = await self.reserve(storyboard_estimate)
        job = Job(
            client_id=self.principal.client_id,
            user_id=self.principal.user_id,
            campaign_id=params.campaign_id,
            prompt=params.brief,
            params=params.to_json(),
            status=JobStatus.PENDING.value,
            estimated_cost=storyboard_estimate + self.estimate_render(params),
            reserved_cost=storyboard_estimate,
            reserved_on=day,
        )
        job = await self.repo.create(job, actor=self.principal.user_id)
        self._enqueue(Task.STORYBOARD, job.id)
        JOBS_CREATED.inc()
        log.info("job.created", job_id=job.id, campaign_id=job.campaign_id)
        return job

    async def approve(self, job_id: str) -> Job:
        job = await self.repo.get(job_id, client_id=self.principal.client_id)
        if job.approved and job.status == JobStatus.STORYBOARD_COMPLETE.value:
            return job  # approving twice answers the current job
        require("approve", job.status)
        job = await self.repo.update(
            job,
            change=JobChange(event="approved", message=f"approved by {self.principal.user_id}"),
            actor=self.principal.user_id,
            approved=True,
            approved_at=utcnow(),
            approved_by=self.principal.user_id,
        )
        STORYBOARDS_APPROVED.inc()
        return job

    async def render(self, job_id: str) -> Job:
        job = await self.repo.get(job_id, client_id=self.principal.client_id)
        require("render", job.status)
        if not job.approved:
            raise Forbidden("approve the storyboard first (approveStoryboard), then render")
        reservation = await self.reserve_for(job, float(job.estimated_cost or 0.0))
        job = await self.repo.transition(
            job,
            JobStatus.RENDERING,
            change=JobChange(event="render_started", message="render queued"),
            actor=self.principal.user_id,
            stage="render",
            error_message=None,
            **reservation,
        )
        self._enqueue(Task.RENDER, job.id)
        return job

    async def refine_scene(
        self,
        job_id: str,
        scene_index: int,
        *,
        image_prompt: str | None,
        motion_prompt: str | None,
        asset_id: str | None,
        narration: str | None = None,
    ) -> Job:
        job = await self.repo.get(job_id, client_id=self.principal.client_id)
        require("refine", job.status)
        scenes = load_scenes(job.storyboard_data)
        if not 0 <= scene_index < len(scenes):
            raise BadUserInput(
                f"sceneIndex must be between 0 and {len(scenes) - 1}", field="sceneIndex"
            )
        if (
            image_prompt is None
            and asset_id is None
            and motion_prompt is None
            and narration is None
        ):
            raise BadUserInput(
                "give a new imagePrompt, motionPrompt, assetId or narration", field="input"
            )
        narration = validated_narration(narration, "narration")
        for name, value, limit in (
            ("imagePrompt", image_prompt, 1000),
            ("motionPrompt", motion_prompt, 500),
        ):
            if value is not None and not 1 <= len(value.strip()) <= limit:
                raise BadUserInput(f"{name} must be 1–{limit} characters", field=name)
        if asset_id is not None:
            asset = await self.assets.get_many([asset_id], client_id=self.principal.client_id)
            if asset_id not in asset or asset[asset_id].kind != AssetKind.UPLOAD.value:
                raise BadUserInput(f"asset {asset_id} not found", field="assetId")
        scene = scenes[scene_index]
        new_still = image_prompt is not None or asset_id is not None
        if narration is not None and narration != scene.narration:
            # Only the voice-over and captions are made again (the scene is held longer if
            # the new line needs it: its clip is not bought again).
            scene = scene.with_(
                narration=narration, voice_asset_id=None, words=None, spoken_seconds=None
            )
        new_clip = new_still or motion_prompt is not None
        scene = scene.with_(
            image_prompt=image_prompt.strip() if image_prompt else scene.image_prompt,
            motion_prompt=motion_prompt.strip() if motion_prompt else scene.motion_prompt,
            source_asset_id=asset_id
            if asset_id is not None
            else (None if image_prompt is not None else scene.source_asset_id),
            image_asset_id=None if new_still else scene.image_asset_id,
            clip_asset_id=None if new_clip else scene.clip_asset_id,
            status="pending",
        )
        scenes[scene_index] = scene
        still_cost = 0.0
        if image_prompt is not None and asset_id is None:
            still_cost = self.rt.provider.estimate_cost(PredictionKind.IMAGE)
        reservation = await self.reserve_for(job, still_cost)
        job = await self.repo.transition(
            job,
            JobStatus.GENERATING_STORYBOARD,
            change=JobChange(
                event="scene_refined",
                message=f"scene {scene_index} refined",
                scene_index=scene_index,
            ),
            actor=self.principal.user_id,
            storyboard_data=dump_scenes(scenes),
            storyboard_version=job.storyboard_version + 1,
            approved=False,
            approved_at=None,
            approved_by=None,
            stage="storyboard",
            **reservation,
        )
        self._enqueue(Task.STORYBOARD, job.id)
        return job

    async def cancel(self, job_id: str) -> Job:
        job = await self.repo.get(job_id, client_id=self.principal.client_id)
        if job.status == JobStatus.CANCELED.value:
            return job  # canceling twice answers the current job
        require("cancel", job.status)
        settled = await self.repo.settle_budget(job)
        job = await self.repo.transition(
            job,
            JobStatus.CANCELED,
            change=JobChange(event="canceled", message=f"canceled by {self.principal.user_id}"),
            actor=self.principal.user_id,
            cancel_requested=True,
            **settled,
        )
        running = [p.external_id for p in await self.repo.running_predictions(job.id)]
        provider, queue = self.rt.provider, self.rt.queue

        async def stop_work() -> None:
            # Stop paying at once: the worker notices the status at its next step.
            for external_id in running:
                try:
                    await provider.cancel(external_id or "")
                except Exception as exc:  # a cancel that fails must not fail the mutation
                    log.warning("job.cancel.prediction_failed", error=str(exc))
            for task in (Task.STORYBOARD, Task.RENDER):
                await abort_task(queue, task, job_id)

        self.unit.after_commit(stop_work)
        return job

    async def delete(self, job_id: str) -> str:
        """Remove the job, its rows and its media in every backend. Running work is stopped
        first (as cancelJob does); another client's job is NOT_FOUND."""
        job = await self.repo.get(job_id, client_id=self.principal.client_id)
        if not JobStatus(job.status).is_terminal:
            job = await self.cancel(job_id)
        keys = await self.repo.delete(job)
        blobs, cache = self.rt.blobs, self.rt.cache

        async def remove_media() -> None:
            await cache.invalidate(job_id)
            await delete_job_media(blobs, job_id, keys)
            log.info("job.deleted", job_id=job_id, assets=len(keys))

        self.unit.after_commit(remove_media)
        return job_id

    async def delete_asset(self, asset_id: str) -> str:
        """Remove an upload (row and object). An asset a job made is removed with its job
        (deleteJob); an upload that a job still in progress uses is CONFLICT."""
        asset = await self.assets.get(asset_id, client_id=self.principal.client_id)
        if asset.job_id is not None:
            raise Conflict(
                f"asset {asset.id} belongs to job {asset.job_id}: delete the job instead",
                jobId=asset.job_id,
            )
        live = await self.assets.live_jobs_using(asset)
        if live:
            raise Conflict(
                f"asset {asset.id} is used by a job in progress ({live[0]}); cancel or "
                "finish it first",
                jobIds=live,
            )
        await self.assets.delete(asset)
        blobs, key = self.rt.blobs, asset.storage_key

        async def remove_object() -> None:
            await blobs.delete(key)
            log.info("asset.deleted", asset_id=asset_id)

        self.unit.after_commit(remove_object)
        return asset_id

    async def retry(self, job_id: str) -> Job:
        job = await self.repo.get(job_id, client_id=self.principal.client_id)
        require("retry", job.status)
        change = JobChange(event="retried", message="retry requested")
        if job.approved and job.storyboard_data:
            reservation = await self.reserve_for(job, float(job.estimated_cost or 0.0))
            job = await self.repo.transition(
                job,
                JobStatus.RENDERING,
                change=change,
                actor=self.principal.user_id,
                stage="render",
                error_message=None,
                **reservation,
            )
            self._enqueue(Task.RENDER, job.id)
        else:
            params = JobParams.from_json(job.prompt, job.campaign_id, job.params)
            reservation = await self.reserve_for(job, self.estimate_storyboard(params))
            job = await self.repo.transition(
                job,
                JobStatus.PENDING,
                change=change,
                actor=self.principal.user_id,
                stage=None,
                error_message=None,
                **reservation,
            )
            self._enqueue(Task.STORYBOARD, job.id)
        return job

    async def export(self, job_id: str, targets: list[ExportTarget]) -> list[Export]:
        """Queue each target once; asking again for a failed export queues it again."""
        if not 1 <= len(targets) <= 10:
            raise BadUserInput("give 1–10 export targets", field="targets")
        targets = [t.validated() for t in targets]
        job = await self.repo.get(job_id, client_id=self.principal.client_id)
        require("export", job.status)
        if not job.video_asset_id:  # a completed job whose media RETENTION_DAYS removed
            raise Conflict("this job's video was deleted (RETENTION_DAYS)", status="COMPLETED")
        result: list[Export] = []
        created: list[Export] = []
        queued: list[str] = []
        for target in targets:
            existing = await self.repo.find_export(job.id, job.video_asset_id, target.key)
            if existing is None:
                existing = next((e for e in created if e.format_key == target.key), None)
            if existing is None:
                existing = Export(
                    id=new_id(),
                    job_id=job.id,
                    format=asdict(target),
                    format_key=target.key,
                    source_asset_id=job.video_asset_id,
                    status=ExportStatus.QUEUED.value,
                    progress=0,
                )
                created.append(existing)
                queued.append(existing.id)
            elif existing.status == ExportStatus.FAILED.value and existing.id not in queued:
                existing = await self.repo.update_export(
                    existing.id, status=ExportStatus.QUEUED.value, progress=0, error=None
                )
                queued.append(existing.id)
            result.append(existing)
        if created:
            await self.repo.add_exports(created)
        if queued:
            await self.repo.update(
                job,
                change=JobChange(
                    event="export_requested",
                    message=", ".join(e.format_key for e in result if e.id in queued),
                ),
                actor=self.principal.user_id,
            )
            for export_id in queued:
                self._enqueue(Task.EXPORT, export_id)
        return result
