"""The pipeline stages a worker runs: storyboard, render (with stitch) and export.

One straight path per stage. Every paid call goes through `Pipeline.predict`, which records
the prediction before creating it and reuses any earlier one with the same inputs, so a
retried, resumed or re-rendered job never pays twice for the same work. Scenes run
concurrently, bounded per job and per worker process; each clip is normalised the moment
it arrives so the final stitch is a stream copy."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from reelforge.errors import Conflict
from reelforge.jobs.params import ExportTarget, JobParams, SceneParams
from reelforge.jobs.repository import JobChange, JobRepository
from reelforge.jobs.soundtrack import (
    captions_for,
    music_request,
    speech_request,
    video_cues,
    words_from_json,
    words_to_json,
)
from reelforge.jobs.storyboard import Scene, dump_scenes, load_scenes
from reelforge.jobs.voiceover import NARRATION_LEAD, fit_duration
from reelforge.media.audio import VoiceCue, keep_true_peak, mix_soundtrack
from reelforge.media.captions import to_srt, to_vtt
from reelforge.media.clips import Fit, make_thumbnail, normalise_clip, stitch_clips
from reelforge.media.formats import ClipFormat, Container
from reelforge.media.overlays import Overlay
from reelforge.media.transcode import export_video as transcode
from reelforge.models import (
    Asset,
    AssetKind,
    ExportStatus,
    Job,
    JobStatus,
    Prediction,
    PredictionStatus,
    utcnow,
)
from reelforge.observability.metrics import (
    COST_ACTUAL,
    JOB_FAILURES,
    JOBS_FINISHED,
    PREDICTIONS,
    VIDEO_GEN_DURATION,
)
from reelforge.providers.base import (
    AnyRequest,
    ClipRequest,
    MediaResult,
    MusicProvider,
    OnCreated,
    PlanRequest,
    PlanResult,
    PredictionKind,
    ProviderError,
    SpeechProvider,
    SpeechResult,
    StillRequest,
    WordTiming,
    estimate_word_timings,
    input_hash,
)
from reelforge.runtime import Runtime
from reelforge.storage.repository import AssetRepository
from reelforge.storage.service import CONTENT_TYPES, AssetStore
from reelforge.webhooks.outbox import WebhookOutbox

log = structlog.get_logger(__name__)

R = TypeVar("R", PlanResult, MediaResult, SpeechResult)

# Progress bands of one run: storyboard 0–30, render 30–90, stitch 90–100.
STORYBOARD_BAND = (0, 30)
RENDER_BAND = (30, 90)
MUSIC_SEED = 1_000  # the music bed's seed: scene_seed(job, this), past any scene's index


class JobCanceled(Exception):
    """The job was canceled (or moved on) by someone else: stop quietly."""


@dataclass(frozen=True)
class PredictionOutcome:
    prediction: Prediction
    asset: Asset | None


def scene_seed(job_id: str, index: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{job_id}:{index}".encode()).digest()[:4], "big")


def band(bounds: tuple[int, int], done: int, total: int) -> int:
    low, high = bounds
    return low + (high - low) * done // max(total, 1)


class Pipeline:
    def __init__(
        self,
        runtime: Runtime,
        job_id: str,
        global_limit: asyncio.Semaphore,
        encode_limit: asyncio.Semaphore | None = None,
    ) -> None:
        self.rt = runtime
        self.job_id = job_id
        self.global_limit = global_limit
        # x264 uses every core: more encodes at once than cores only adds switching.
        self.encode_limit = encode_limit or asyncio.Semaphore(os.cpu_count() or 2)
        self.scene_limit = asyncio.Semaphore(runtime.settings.scene_concurrency)
        self.write_lock = asyncio.Lock()  # one writer per job: scene results arrive concurrently
        self.log = log.bind(job_id=job_id)

    # -- small helpers -----------------------------------------------------------------

    async def read(self) -> Job:
        async with self.rt.session() as session:
            return await self.rt.jobs(session).get(self.job_id, client_id=None)

    async def write(self, mutate: Callable[[JobRepository, Job], Awaitable[Job]]) -> Job:
        """Run one job write with a fresh copy of the row; a job canceled meanwhile stops us."""
        async with self.write_lock, self.rt.session() as session:
            repo = self.rt.jobs(session)
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

    async def blob(self, asset_id: str) -> tuple[Asset, bytes]:
        async with self.rt.session() as session:
            asset = await AssetRepository(session).get(asset_id, client_id=None)
        return asset, await self.rt.blobs.read_bytes(asset.storage_key)

    # -- the one path for paid work ------------------------------------------------------

    async def predict(
        self,
        kind: PredictionKind,
        request: AnyRequest,
        run: Callable[[str | None, OnCreated], Awaitable[R]],
        store: Callable[[AsyncSession, R, Prediction], Awaitable[Asset | None]],
        *,
        scene_index: int | None = None,
    ) -> PredictionOutcome:
        provider = self.rt.provider
        model = provider.model_for(kind)
        digest = input_hash(kind, model, request)
        settings = self.rt.settings
        attempts = settings.prediction_retries + 1
        for attempt in range(attempts):
            async with self.rt.session() as session:
                repo = JobRepository(session)
                prediction = await repo.reusable_prediction(self.job_id, digest)
                if prediction is not None and prediction.status == PredictionStatus.SUCCEEDED.value:
                    PREDICTIONS.labels(kind=kind.value, outcome="reused").inc()
                    asset = None
                    if prediction.output_asset_id:
                        asset = await AssetRepository(session).get(
                            prediction.output_asset_id, client_id=None
                        )
                    return PredictionOutcome(prediction, asset)
                existing_id = None
                if prediction is not None and prediction.external_id:
                    existing_id = prediction.external_id  # still running somewhere: wait for it
                    PREDICTIONS.labels(kind=kind.value, outcome="resumed").inc()
                else:
                    if prediction is not None:
                        # Recorded but never confirmed created (crash mid-create): retire it.
                        prediction.status = PredictionStatus.FAILED.value
                        prediction.error = "lost before the provider confirmed it"
                    prediction = Prediction(
                        job_id=self.job_id,
                        scene_index=scene_index,
                        kind=kind.value,
                        provider=provider.name,
                        model=model,
                        input_hash=digest,
                        status=PredictionStatus.CREATING.value,
                        cost=0.0,
                    )
                    await repo.save_prediction(prediction)

                on_created = record_creation(repo, prediction, kind)

                try:
                    async with self.global_limit:
                        result = await run(existing_id, on_created)
                except ProviderError as exc:
                    job = await repo.get(self.job_id, client_id=None)
                    canceled = job.status == JobStatus.CANCELED.value
                    prediction.status = (
                        PredictionStatus.CANCELED if canceled else PredictionStatus.FAILED
                    ).value
                    prediction.error = str(exc)[:2000]
                    prediction.completed_at = utcnow()
                    await repo.save_prediction(prediction)
                    PREDICTIONS.labels(kind=kind.value, outcome="failed").inc()
                    if canceled:
                        raise JobCanceled from exc
                    if not exc.retryable or attempt == attempts - 1:
                        raise
                    delay = settings.prediction_retry_backoff.total_seconds() * 2**attempt
                    await self.note_retry(kind, scene_index, exc, delay)
                    await asyncio.sleep(delay)
                    continue
                asset = await store(session, result, prediction)
                prediction.external_id = result.meta.external_id
                prediction.status = PredictionStatus.SUCCEEDED.value
                prediction.predict_time = result.meta.predict_time
                prediction.cost = result.meta.cost
                prediction.output_asset_id = asset.id if asset else None
                prediction.completed_at = utcnow()
                await repo.save_prediction(prediction)
                COST_ACTUAL.labels(model=model).inc(result.meta.cost)
                PREDICTIONS.labels(kind=kind.value, outcome="succeeded").inc()
                return PredictionOutcome(prediction, asset)
        raise AssertionError("unreachable")

    async def note_retry(
        self, kind: PredictionKind, scene_index: int | None, exc: ProviderError, delay: float
    ) -> None:
        """Count a retry on the job and say why, so the client sees it happening."""
        self.log.warning(
            "prediction.retry", kind=kind.value, scene=scene_index, delay=delay, error=str(exc)
        )

        async def mutate(repo: JobRepository, job: Job) -> Job:
            return await repo.update(
                job,
                change=JobChange(
                    event="prediction_retry",
                    scene_index=scene_index,
                    message=f"{kind.value} failed, retrying: {exc}"[:500],
                ),
                retry_count=job.retry_count + 1,
                error_message=str(exc)[:2000],
            )

        await self.write(mutate)

    async def predict_media(
        self,
        kind: PredictionKind,
        request: StillRequest | ClipRequest,
        *,
        client_id: str,
        scene_index: int,
    ) -> Asset:
        provider = self.rt.provider

        async def run(existing_id: str | None, on_created: OnCreated) -> MediaResult:
            if isinstance(request, StillRequest):
                return await provider.still(request, existing_id=existing_id, on_created=on_created)
            return await provider.clip(request, existing_id=existing_id, on_created=on_created)

        async def store(session: AsyncSession, result: MediaResult, _: Prediction) -> Asset:
            return await AssetStore(session, self.rt.blobs).store_bytes(
                result.data,
                client_id=client_id,
                job_id=self.job_id,
                kind=AssetKind.IMAGE if kind is PredictionKind.IMAGE else AssetKind.CLIP,
                content_type=result.content_type,
            )

        outcome = await self.predict(kind, request, run, store, scene_index=scene_index)
        assert outcome.asset is not None
        return outcome.asset

    # -- storyboard --------------------------------------------------------------------

    async def generate_storyboard(self) -> None:
        started = time.monotonic()
        job = await self.read()
        if job.status == JobStatus.PENDING.value:
            job = await self.write(
                lambda r, j: r.transition(
                    j,
                    JobStatus.GENERATING_STORYBOARD,
                    stage="storyboard",
                    progress=2,
                    change=JobChange(event="storyboard_started", message="planning scenes"),
                )
            )
        if job.status != JobStatus.GENERATING_STORYBOARD.value:
            self.log.info("storyboard.skipped", status=job.status)
            return
        params = job_params(job)
        scenes = load_scenes(job.storyboard_data)
        if not scenes:
            scenes = await self.plan_scenes(job, params)
            scenes_data = dump_scenes(scenes)
            job = await self.write(
                lambda r, j: r.update(
                    j,
                    storyboard_data=scenes_data,
                    progress=band(STORYBOARD_BAND, 1, 3),
                    change=JobChange(
                        event="storyboard_planned", message=f"{len(scenes)} scenes planned"
                    ),
                )
            )
        fmt = ClipFormat.for_output(params.aspect_ratio, params.resolution)
        total = len(scenes)

        def progress(current: list[Scene]) -> int:
            ready = sum(1 for s in current if s.image_asset_id)
            return band((band(STORYBOARD_BAND, 1, 3), STORYBOARD_BAND[1] - 1), ready, total)

        async def make_still(scene: Scene) -> None:
            async with self.scene_limit:
                asset_id = await self.still_for(job, params, scene, fmt)
                await self.update_scene(
                    scene.with_(image_asset_id=asset_id, status="ready"),
                    progress=progress,
                    change=JobChange(
                        event="scene_still_ready",
                        scene_index=scene.index,
                        message=f"scene {scene.index} still ready",
                    ),
                )

        await gather_all([make_still(s) for s in scenes if not s.image_asset_id])
        job = await self.read()
        estimate = await self.estimate_render(job)
        spent = await self.spent()
        await self.write(
            lambda r, j: r.transition(
                j,
                JobStatus.STORYBOARD_COMPLETE,
                stage="storyboard",
                progress=STORYBOARD_BAND[1],
                estimated_cost=estimate,
                actual_cost=spent,
                change=JobChange(
                    event="storyboard_complete",
                    message=f"storyboard ready; render estimate ${estimate:.2f}",
                ),
            )
        )
        VIDEO_GEN_DURATION.labels(stage="storyboard").observe(time.monotonic() - started)
        JOBS_FINISHED.labels(status=JobStatus.STORYBOARD_COMPLETE.value).inc()

    async def plan_scenes(self, job: Job, params: JobParams) -> list[Scene]:
        count = params.scene_count or 1
        default_duration = params.target_duration / count
        explicit: list[SceneParams] = params.scenes
        if not explicit:
            request = PlanRequest(
                brief=job.prompt,
                scene_count=count,
                target_duration=params.target_duration,
                style=params.style,
                aspect_ratio=params.aspect_ratio,
            )

            async def run(existing_id: str | None, on_created: OnCreated) -> PlanResult:
                return await self.rt.provider.plan(
                    request, existing_id=existing_id, on_created=on_created
                )

            plan: list[PlanResult] = []

            async def keep(_: AsyncSession, result: PlanResult, __: Prediction) -> None:
                plan.append(result)

            outcome = await self.predict(PredictionKind.PLAN, request, run, keep)
            if not plan:  # an earlier run paid for this plan but died before saving it
                plan.append(await run(outcome.prediction.external_id, _noop_created))
            explicit = [
                SceneParams(
                    s.description,
                    s.image_prompt,
                    s.motion_prompt,
                    s.duration,
                    narration=s.narration,
                )
                for s in plan[0].scenes
            ]
        style = f", {params.style}" if params.style else ""
        uploads = list(params.asset_ids)
        speaks = params.voice is not None or params.captions != "none"
        scenes = []
        for index, s in enumerate(explicit[:count]):
            # A scene given without narration speaks its description; a planned one, its
            # line; a job that neither speaks nor reads keeps only the lines it was given.
            narration = s.narration if s.narration is not None else s.description
            if not speaks:
                narration = (s.narration or "") if params.scenes else ""
            duration = s.duration or default_duration
            scenes.append(
                Scene(
                    index=index,
                    description=s.description,
                    image_prompt=(s.image_prompt or s.description) + style,
                    motion_prompt=s.motion_prompt or "slow cinematic push-in",
                    # a scene lasts at least its line and a pause
                    duration=fit_duration(duration, narration) if speaks else duration,
                    source_asset_id=s.asset_id
                    or (uploads[index] if index < len(uploads) else None),
                    narration=narration,
                )
            )
        return scenes

    async def still_for(self, job: Job, params: JobParams, scene: Scene, fmt: ClipFormat) -> str:
        """The scene's still: the client's uploaded image, a frame of its uploaded clip, or a
        generated image."""
        if scene.source_asset_id:
            asset, _ = await self.blob(scene.source_asset_id)
            if asset.content_type.startswith("image/"):
                return asset.id
            with self.rt.blobs.temp_path(".jpg") as poster:
                async with self.rt.blobs.local(asset.storage_key) as source:
                    await make_thumbnail(source, poster, at_seconds=0.0)
                async with self.rt.session() as session:
                    still = await AssetStore(session, self.rt.blobs).store_file(
                        poster,
                        client_id=job.client_id,
                        job_id=job.id,
                        kind=AssetKind.IMAGE,
                        content_type="image/jpeg",
                    )
                return still.id
        request = StillRequest(
            prompt=scene.image_prompt,
            width=fmt.width,
            height=fmt.height,
            aspect_ratio=params.aspect_ratio,
            seed=scene_seed(job.id, scene.index),
            title=scene.description[:120],
        )
        asset = await self.predict_media(
            PredictionKind.IMAGE, request, client_id=job.client_id, scene_index=scene.index
        )
        return asset.id

    async def clip_request(self, job: Job, scene: Scene) -> ClipRequest | None:
        """What the provider would be asked for this scene's clip; None for an uploaded clip."""
        if scene.image_asset_id is None:
            raise ValueError(f"scene {scene.index} has no still")
        if scene.source_asset_id and scene.source_asset_id != scene.image_asset_id:
            return None  # the client's own clip is used as it is
        params = job_params(job)
        fmt = ClipFormat.for_output(params.aspect_ratio, params.resolution)
        still, data = await self.blob(scene.image_asset_id)
        return ClipRequest(
            image=data,
            image_content_type=still.content_type,
            image_url=await self.rt.blobs.provider_url(still.storage_key),
            prompt=scene.motion_prompt,
            duration=scene.duration,
            width=fmt.width,
            height=fmt.height,
            aspect_ratio=params.aspect_ratio,
            seed=scene_seed(job.id, scene.index),
        )

    async def estimate_render(self, job: Job) -> float:
        """What rendering will cost now: only clips, voice-overs and the music bed not
        already paid for count."""
        provider = self.rt.provider
        params = job_params(job)
        scenes = load_scenes(job.storyboard_data)
        total = 0.0
        async with self.rt.session() as session:
            repo = JobRepository(session)

            async def unpaid(kind: PredictionKind, request: AnyRequest) -> bool:
                digest = input_hash(kind, provider.model_for(kind), request)
                return await repo.reusable_prediction(job.id, digest) is None

            for scene in scenes:
                request = await self.clip_request(job, scene)
                if request is not None and await unpaid(PredictionKind.VIDEO, request):
                    total += provider.estimate_cost(PredictionKind.VIDEO, duration=scene.duration)
                speech = speech_request(params, scene)
                if (
                    speech is not None
                    and isinstance(provider, SpeechProvider)
                    and await unpaid(PredictionKind.SPEECH, speech)
                ):
                    total += provider.estimate_speech(speech.text)
            music = music_request(
                params, sum(s.length for s in scenes), seed=scene_seed(job.id, MUSIC_SEED)
            )
            if (
                music is not None
                and isinstance(provider, MusicProvider)
                and await unpaid(PredictionKind.MUSIC, music)
            ):
                total += provider.estimate_music(music.duration)
        return round(total, 6)

    async def spent(self) -> float:
        """What this job's predictions have cost so far."""
        async with self.rt.session() as session:
            return await JobRepository(session).total_cost(self.job_id)

    # -- render ------------------------------------------------------------------------

    async def render(self) -> None:
        started = time.monotonic()
        job = await self.read()
        # A run interrupted while stitching continues from there: every clip is in the
        # ledger (nothing is paid again) and the stitch runs once more.
        if job.status not in (JobStatus.RENDERING.value, JobStatus.STITCHING.value):
            self.log.info("render.skipped", status=job.status)
            return
        if not job.approved:
            raise RuntimeError("render of an unapproved job")  # the service never queues one
        params = job_params(job)
        fmt = ClipFormat.for_output(params.aspect_ratio, params.resolution)
        scenes = load_scenes(job.storyboard_data)
        normalised: dict[int, str] = {}
        rendered: dict[int, Scene] = {}
        total = len(scenes)

        def progress(current: list[Scene]) -> int:
            return band(RENDER_BAND, len(normalised), total)

        async def scene_clip(scene: Scene) -> Asset:
            request = await self.clip_request(job, scene)
            if request is None:
                assert scene.source_asset_id is not None
                clip, _ = await self.blob(scene.source_asset_id)
                return clip
            return await self.predict_media(
                PredictionKind.VIDEO, request, client_id=job.client_id, scene_index=scene.index
            )

        async def render_scene(scene: Scene) -> None:
            async with self.scene_limit:
                # The voice-over and the clip are made at once: a line longer than planned
                # lengthens the scene by holding its clip, so the clip never waits for it.
                scene, clip = await asyncio.gather(
                    self.voice_for(job, params, scene), scene_clip(scene)
                )
                captions = captions_for(params, scene)
                normalised[scene.index] = await self.normalised(
                    clip, fmt, scene.length, [captions] if captions else []
                )
                rendered[scene.index] = scene = scene.with_(clip_asset_id=clip.id)
                await self.update_scene(
                    scene,
                    progress=progress,
                    change=JobChange(
                        event="scene_rendered",
                        scene_index=scene.index,
                        message=f"scene {scene.index} rendered",
                    ),
                )

        beds: list[str | None] = []

        async def make_bed() -> None:
            # Asked for at once with the planned length (a bed shorter than the final video
            # is looped by the mix), so the music is never on the critical path.
            beds.append(await self.music_for(job, params, sum(s.length for s in scenes)))

        await gather_all([make_bed(), *(render_scene(s) for s in scenes)])
        scenes = [rendered[s.index] for s in scenes]
        cost = await self.spent()  # every paid call of the render is done; the stitch is free
        if job.status == JobStatus.RENDERING.value:
            await self.write(
                lambda r, j: r.transition(
                    j,
                    JobStatus.STITCHING,
                    stage="stitch",
                    progress=RENDER_BAND[1],
                    actual_cost=cost,
                    change=JobChange(event="stitching", message=f"stitching {total} clips"),
                )
            )
        video, thumbnail, captions = await self.stitch(
            job, params, fmt, scenes, [normalised[s.index] for s in scenes], beds[0]
        )
        await self.write(
            lambda r, j: r.transition(
                j,
                JobStatus.COMPLETED,
                stage="done",
                progress=100,
                video_asset_id=video.id,
                thumbnail_asset_id=thumbnail.id,
                captions_vtt_asset_id=captions[0].id if captions else None,
                captions_srt_asset_id=captions[1].id if captions else None,
                video_url=f"/api/v2/assets/{video.id}",
                actual_cost=cost,
                error_message=None,
                change=JobChange(
                    event="completed", message=f"video ready ({video.duration_seconds or 0:.1f} s)"
                ),
            )
        )
        VIDEO_GEN_DURATION.labels(stage="render").observe(time.monotonic() - started)
        JOBS_FINISHED.labels(status=JobStatus.COMPLETED.value).inc()

    async def normalised(
        self, clip: Asset, fmt: ClipFormat, duration: float, overlays: list[Overlay]
    ) -> str:
        """The key of the clip in THE clip format with its overlays (captions) drawn, made
        once per clip, format and overlay and kept beside it, so a re-render re-uses it and
        the stitch is a stream copy."""
        drawn = "".join(f"-{o.key()}" for o in overlays)
        key = (
            f"jobs/{self.job_id}/normalised/"
            f"{clip.id}-{fmt.width}x{fmt.height}-{duration:g}{drawn}.mp4"
        )
        blobs = self.rt.blobs
        if not await blobs.exists(key):
            async with self.encode_limit, blobs.local(clip.storage_key) as source:
                with blobs.temp_path(".mp4") as out:
                    await normalise_clip(source, out, fmt=fmt, duration=duration, overlays=overlays)
                    await blobs.put_file(key, out, content_type="video/mp4")
        return key

    async def voice_for(self, job: Job, params: JobParams, scene: Scene) -> Scene:
        """The scene's voice-over (a speech prediction, never paid twice) and its word
        timings (kept with the scene)."""
        request = speech_request(params, scene)
        provider = self.rt.provider
        if request is None or not isinstance(provider, SpeechProvider):
            return scene.with_(voice_asset_id=None, words=None, spoken_seconds=None)
        heard: list[WordTiming] = []

        async def run(existing_id: str | None, on_created: OnCreated) -> SpeechResult:
            return await provider.speak(request, existing_id=existing_id, on_created=on_created)

        async def store(session: AsyncSession, result: SpeechResult, _: Prediction) -> Asset:
            heard[:] = result.words
            return await AssetStore(session, self.rt.blobs).store_bytes(
                result.data,
                client_id=job.client_id,
                job_id=self.job_id,
                kind=AssetKind.AUDIO,
                content_type=result.content_type,
            )

        outcome = await self.predict(
            PredictionKind.SPEECH, request, run, store, scene_index=scene.index
        )
        voice = outcome.asset
        assert voice is not None
        spoken = voice.duration_seconds or 0.0
        if heard:
            words = heard
        elif scene.voice_asset_id == voice.id and scene.words:
            words = words_from_json(scene.words)  # reused: the timings kept with the scene
        else:
            words = estimate_word_timings(request.text, spoken)
        return scene.with_(
            voice_asset_id=voice.id, words=words_to_json(words), spoken_seconds=spoken
        )

    async def music_for(self, job: Job, params: JobParams, duration: float) -> str | None:
        """The key of the bed under the video: the client's track, a music prediction, or
        none."""
        if params.music_asset_id is not None:
            track, _ = await self.blob(params.music_asset_id)
            return track.storage_key
        request = music_request(params, duration, seed=scene_seed(job.id, MUSIC_SEED))
        provider = self.rt.provider
        if request is None or not isinstance(provider, MusicProvider):
            return None

        async def run(existing_id: str | None, on_created: OnCreated) -> MediaResult:
            return await provider.compose(request, existing_id=existing_id, on_created=on_created)

        async def store(session: AsyncSession, result: MediaResult, _: Prediction) -> Asset:
            return await AssetStore(session, self.rt.blobs).store_bytes(
                result.data,
                client_id=job.client_id,
                job_id=self.job_id,
                kind=AssetKind.AUDIO,
                content_type=result.content_type,
            )

        outcome = await self.predict(PredictionKind.MUSIC, request, run, store)
        assert outcome.asset is not None
        return outcome.asset.storage_key

    async def stitch(
        self,
        job: Job,
        params: JobParams,
        fmt: ClipFormat,
        scenes: list[Scene],
        clip_keys: list[str],
        music_key: str | None,
    ) -> tuple[Asset, Asset, tuple[Asset, Asset] | None]:
        """Stitch (stream copy), then lay the soundtrack (audio re-encoded once, video
        copied), then the poster and the caption files."""
        lengths = [fmt.frames(s.length) / fmt.fps for s in scenes]
        starts = [sum(lengths[:i]) for i in range(len(scenes))]
        blobs = self.rt.blobs
        async with contextlib.AsyncExitStack() as inputs:
            clips = [await inputs.enter_async_context(blobs.local(k)) for k in clip_keys]
            voices = []
            for scene, start in zip(scenes, starts, strict=True):
                if scene.voice_asset_id:
                    voice, _ = await self.blob(scene.voice_asset_id)
                    path = await inputs.enter_async_context(blobs.local(voice.storage_key))
                    voices.append(VoiceCue(path=path, start=start + NARRATION_LEAD))
            music = await inputs.enter_async_context(blobs.local(music_key)) if music_key else None
            return await self._stitch(
                job, params, scenes, starts, sum(lengths), fmt, clips, voices, music
            )

    async def _stitch(
        self,
        job: Job,
        params: JobParams,
        scenes: list[Scene],
        starts: list[float],
        duration: float,
        fmt: ClipFormat,
        clips: list[Path],
        voices: list[VoiceCue],
        music: Path | None,
    ) -> tuple[Asset, Asset, tuple[Asset, Asset] | None]:
        timeout = self.rt.settings.ffmpeg_timeout.total_seconds()
        with (
            self.rt.blobs.temp_path(".mp4") as stitched,
            self.rt.blobs.temp_path(".mp4") as video_tmp,
            self.rt.blobs.temp_path(".jpg") as thumb_tmp,
        ):
            await stitch_clips(clips, stitched, timeout=timeout)
            loudness = await mix_soundtrack(
                stitched,
                video_tmp,
                voices=voices,
                music=music,
                duration=duration,
                fmt=fmt,
                loop_music=True,
                timeout=timeout,
            )
            await make_thumbnail(video_tmp, thumb_tmp, at_seconds=0.5)  # clamped to short videos
            cues = video_cues(params, scenes, starts)
            async with self.rt.session() as session:
                store = AssetStore(session, self.rt.blobs)
                video = await store.store_file(
                    video_tmp,
                    client_id=job.client_id,
                    job_id=job.id,
                    kind=AssetKind.VIDEO,
                    content_type="video/mp4",
                    # a silent video has no loudness to speak of
                    loudness=loudness if voices or music is not None else None,
                )
                thumbnail = await store.store_file(
                    thumb_tmp,
                    client_id=job.client_id,
                    job_id=job.id,
                    kind=AssetKind.THUMBNAIL,
                    content_type="image/jpeg",
                )
                captions = None
                if cues:
                    vtt = await store.store_bytes(
                        to_vtt(cues, duration=duration).encode(),
                        client_id=job.client_id,
                        job_id=job.id,
                        kind=AssetKind.CAPTIONS,
                        content_type="text/vtt",
                    )
                    srt = await store.store_bytes(
                        to_srt(cues, duration=duration).encode(),
                        client_id=job.client_id,
                        job_id=job.id,
                        kind=AssetKind.CAPTIONS,
                        content_type="application/x-subrip",
                    )
                    captions = (vtt, srt)
        return video, thumbnail, captions

    # -- failure -----------------------------------------------------------------------

    async def fail(self, stage: str, exc: BaseException) -> None:
        reason = type(exc).__name__
        message = str(exc) or reason
        self.log.error("job.failed", stage=stage, reason=reason, error=message)
        JOB_FAILURES.labels(stage=stage, reason=reason).inc()
        JOBS_FINISHED.labels(status=JobStatus.FAILED.value).inc()
        cost = await self.spent()
        with contextlib.suppress(JobCanceled):  # canceled meanwhile: that state stands
            await self.write(
                lambda r, j: r.transition(
                    j,
                    JobStatus.FAILED,
                    error_message=f"{stage} failed: {message}"[:2000],
                    actual_cost=cost,
                    change=JobChange(event="failed", message=f"{stage} failed: {message}"[:500]),
                )
            )

    async def settle_canceled(self) -> None:
        """Record what a canceled job already paid."""
        async with self.rt.session() as session:
            repo = self.rt.jobs(session)
            cost = await repo.total_cost(self.job_id)
            job = await repo.get(self.job_id, client_id=None)
            if job.status == JobStatus.CANCELED.value and float(job.actual_cost or 0) != cost:
                await repo.update(job, actual_cost=cost)


def record_creation(repo: JobRepository, prediction: Prediction, kind: PredictionKind) -> OnCreated:
    """The callback a provider calls right after a create succeeded: the external id is
    committed before any waiting starts, so a crash later resumes instead of paying again."""

    async def on_created(external_id: str) -> None:
        prediction.external_id = external_id
        prediction.status = PredictionStatus.RUNNING.value
        await repo.save_prediction(prediction)
        PREDICTIONS.labels(kind=kind.value, outcome="created").inc()

    return on_created


def job_params(job: Job) -> JobParams:
    data: dict[str, Any] = dict(job.params)
    data["scenes"] = [SceneParams(**s) for s in data.get("scenes", [])]
    return JobParams(brief=job.prompt, campaign_id=job.campaign_id, **data)


async def _noop_created(_: str) -> None:
    return None


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


async def export_video(runtime: Runtime, export_id: str) -> None:
    """Transcode a completed job's video to one export target."""
    started = time.monotonic()
    async with runtime.session() as session:
        repo = JobRepository(session)
        export = await repo.get_export(export_id)
        if export.status not in (ExportStatus.QUEUED.value, ExportStatus.PROCESSING.value):
            return
        job = await repo.get(export.job_id, client_id=None)
        source = await AssetRepository(session).get(export.source_asset_id or "", client_id=None)
    await set_export(runtime, export_id, status=ExportStatus.PROCESSING.value)
    target = ExportTarget(**export.format)
    last_reported = [0]

    async def on_progress(fraction: float) -> None:
        percent = int(fraction * 100)
        if percent >= last_reported[0] + 20:  # a write per fifth, not per frame
            last_reported[0] = percent
            await set_export(runtime, export_id, progress=percent)

    try:
        with runtime.blobs.temp_path(f".{target.container}") as tmp:
            async with runtime.blobs.local(source.storage_key) as source_path:
                await transcode(
                    source_path,
                    tmp,
                    aspect=target.aspect_ratio,
                    resolution=target.resolution,
                    container=cast(Container, target.container),  # validated by ExportTarget
                    fit=cast(Fit, target.fit),
                    progress=on_progress,
                )
            # The export keeps the video's loudness (its audio is re-encoded, never
            # re-levelled, unless its true peak went over the ceiling): on record again.
            loudness = None
            if source.loudness_lufs is not None and target.container != "gif":
                loudness = await keep_true_peak(tmp)
            async with runtime.session() as session:
                asset = await AssetStore(session, runtime.blobs).store_file(
                    tmp,
                    client_id=job.client_id,
                    job_id=job.id,
                    kind=AssetKind.EXPORT,
                    content_type=CONTENT_TYPES[target.container],
                    loudness=loudness,
                )
        await finish_export(
            runtime,
            export_id,
            status=ExportStatus.COMPLETED.value,
            progress=100,
            asset_id=asset.id,
            error=None,
        )
        VIDEO_GEN_DURATION.labels(stage="export").observe(time.monotonic() - started)
    except Exception as exc:
        log.error("export.failed", job_id=job.id, export_id=export_id, error=str(exc))
        JOB_FAILURES.labels(stage="export", reason=type(exc).__name__).inc()
        await finish_export(
            runtime, export_id, status=ExportStatus.FAILED.value, error=str(exc)[:2000]
        )


async def set_export(runtime: Runtime, export_id: str, **values: Any) -> None:
    async with runtime.session() as session:
        await JobRepository(session).update_export(export_id, **values)


async def finish_export(runtime: Runtime, export_id: str, **values: Any) -> None:
    """The export's last write and its webhook event (export.completed or .failed), in
    one unit of work; the event is queued once that has committed."""
    outbox = WebhookOutbox(runtime.settings)
    async with runtime.session() as session:
        repo = JobRepository(session)
        export = await repo.get_export(export_id)
        for name, value in values.items():
            setattr(export, name, value)
        job = await repo.get(export.job_id, client_id=None)
        await outbox.export_finished(session, job, export)
        await repo.save_exports([export])
    await outbox.send(runtime.enqueue)
