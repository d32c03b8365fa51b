"""The render stage: per scene (through the ledger, concurrently) its voice-over, its clip,
and the clip normalised to THE clip format with its captions drawn, the moment it arrives;
then a stream-copy stitch, the soundtrack laid over it (audio re-encoded once, video
copied, -14 LUFS), the caption files and a thumbnail."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

from reelforge.db import UnitOfWork
from reelforge.jobs.overlays import open_art, safe_zone, scene_overlays
from reelforge.jobs.params import JobParams
from reelforge.jobs.predictions import Ledger
from reelforge.jobs.repository import JobChange
from reelforge.jobs.run import Run, band, gather_all, job_params, scene_seed
from reelforge.jobs.scenes import Scene, load_scenes
from reelforge.jobs.soundtrack import (
    music_request,
    speech_request,
    video_cues,
    words_from_json,
    words_to_json,
)
from reelforge.jobs.voiceover import NARRATION_LEAD
from reelforge.media.audio import VoiceCue, mix_soundtrack
from reelforge.media.captions import to_srt, to_vtt
from reelforge.media.clips import make_thumbnail, normalise_clip, stitch_clips
from reelforge.media.formats import ClipFormat
from reelforge.media.overlays import Overlay, SafeZone
from reelforge.models import Asset, AssetKind, Job, JobStatus
from reelforge.observability.metrics import JOBS_FINISHED, VIDEO_GEN_DURATION
from reelforge.providers.base import (
    AnyRequest,
    ClipRequest,
    MediaResult,
    MusicProvider,
    OnCreated,
    PredictionKind,
    SpeechProvider,
    SpeechResult,
    estimate_word_timings,
    paid_work,
)
from reelforge.storage.service import AssetStore

RENDER_BAND = (30, 90)
MUSIC_SEED_INDEX = 1_000  # the music bed's seed: scene_seed(job, this), after any scene's


async def render(run: Run) -> None:
    started = time.monotonic()
    job = await run.read()
    # A run interrupted while stitching continues from there: every clip is in the ledger
    # (nothing is paid again) and the stitch runs once more.
    if job.status not in (JobStatus.RENDERING.value, JobStatus.STITCHING.value):
        run.log.info("render.skipped", status=job.status)
        return
    if not job.approved:
        raise RuntimeError("render of an unapproved job")  # the service never queues one
    params = job_params(job)
    fmt = ClipFormat.for_output(params.aspect, params.resolution)
    scenes = load_scenes(job.storyboard_data)
    normalised: dict[int, str] = {}
    rendered: dict[int, Scene] = {}
    total = len(scenes)

    def progress(_: list[Scene]) -> int:
        return band(RENDER_BAND, len(normalised), total)

    async def scene_clip(scene: Scene) -> Asset:
        request = await clip_request(run, job, scene)
        if request is None:
            assert scene.source_asset_id is not None
            return await run.asset(scene.source_asset_id)
        return await Ledger(run).media(
            PredictionKind.VIDEO, request, client_id=job.client_id, scene_index=scene.index
        )

    async def render_scene(scene: Scene) -> None:
        async with run.scenes:
            # The voice-over and the clip are made at once: a line longer than planned
            # lengthens the scene by holding its clip, so the clip never waits for the voice.
            scene, clip = await asyncio.gather(
                voice_for(run, job, params, scene), scene_clip(scene)
            )
            overlays = scene_overlays(params, scene, art, last=scene.index == last_index)
            normalised[scene.index] = await normalise(
                run, clip, fmt, scene.length, overlays, safe_zone(params)
            )
            rendered[scene.index] = scene = scene.with_(clip_asset_id=clip.id)
            await run.update_scene(
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
        # Asked for at once with the planned length (a bed shorter than the final video is
        # looped by the mix), so the music is never on the critical path.
        beds.append(await music_for(run, job, params, bed_seconds(scenes)))

    last_index = max(s.index for s in scenes)
    async with contextlib.AsyncExitStack() as files:
        art = await open_art(run, params, files)
        await gather_all([make_bed(), *(render_scene(s) for s in scenes)])
    scenes = [rendered[s.index] for s in scenes]
    # Every paid call of the render is done; the stitch is free.
    if job.status == JobStatus.RENDERING.value:
        await run.write(
            lambda r, j: r.transition(
                j,
                JobStatus.STITCHING,
                stage="stitch",
                progress=RENDER_BAND[1],
                change=JobChange(event="stitching", message=f"stitching {total} clips"),
            )
        )
    video, thumbnail, captions = await stitch(
        run, job, params, fmt, scenes, [normalised[s.index] for s in scenes], beds[0]
    )
    await run.finish(
        JobStatus.COMPLETED,
        stage="done",
        progress=100,
        video_asset_id=video.id,
        thumbnail_asset_id=thumbnail.id,
        captions_vtt_asset_id=captions[0].id if captions else None,
        captions_srt_asset_id=captions[1].id if captions else None,
        error_message=None,
        change=JobChange(
            event="completed", message=f"video ready ({video.duration_seconds or 0:.1f} s)"
        ),
    )
    VIDEO_GEN_DURATION.labels(stage="render").observe(time.monotonic() - started)
    JOBS_FINISHED.labels(status=JobStatus.COMPLETED.value).inc()


def bed_seconds(scenes: list[Scene]) -> float:
    """How long a bed the render asks for: the planned scene lengths, which a re-run of the
    render sees unchanged (the voiced lengths are not known until every line is spoken), so
    the same bed is asked for, and paid for, once. A shorter bed is looped by the mix."""
    return sum(s.duration for s in scenes)


async def clip_request(run: Run, job: Job, scene: Scene) -> ClipRequest | None:
    """What the provider would be asked for this scene's clip; None for an uploaded clip."""
    if scene.image_asset_id is None:
        raise ValueError(f"scene {scene.index} has no still")
    if scene.source_asset_id and scene.source_asset_id != scene.image_asset_id:
        return None  # the client's own clip is used as it is
    params = job_params(job)
    fmt = ClipFormat.for_output(params.aspect, params.resolution)
    still, data = await run.blob(scene.image_asset_id)
    return ClipRequest(
        image=data,
        image_content_type=still.content_type,
        image_url=await run.runtime.blobs.provider_url(still.storage_key),
        prompt=scene.motion_prompt,
        duration=scene.duration,
        width=fmt.width,
        height=fmt.height,
        aspect_ratio=params.aspect,
        seed=scene_seed(job.id, scene.index),
    )


async def estimate_render(run: Run, job: Job) -> float:
    """What rendering will cost now: only clips, voice-overs and the music bed not already
    paid for count."""
    provider = run.runtime.provider
    params = job_params(job)
    scenes = load_scenes(job.storyboard_data)

    async def unpaid(kind: PredictionKind, request: AnyRequest) -> bool:
        _, digest = paid_work(provider, kind, request)
        async with run.runtime.unit() as unit:
            reusable = await run.runtime.jobs(unit).reusable_prediction(job.id, digest)
        return reusable is None

    total = 0.0
    for scene in scenes:
        request = await clip_request(run, job, scene)
        if request is not None and await unpaid(PredictionKind.VIDEO, request):
            total += provider.estimate_cost(
                PredictionKind.VIDEO, duration=scene.duration, aspect_ratio=request.aspect_ratio
            )
        speech = speech_request(params, scene)
        if (
            speech is not None
            and isinstance(provider, SpeechProvider)
            and await unpaid(PredictionKind.SPEECH, speech)
        ):
            total += provider.estimate_speech(speech.text)
    music = music_request(params, bed_seconds(scenes), seed=scene_seed(job.id, MUSIC_SEED_INDEX))
    if (
        music is not None
        and isinstance(provider, MusicProvider)
        and await unpaid(PredictionKind.MUSIC, music)
    ):
        total += provider.estimate_music(music.duration)
    return round(total, 6)


async def voice_for(run: Run, job: Job, params: JobParams, scene: Scene) -> Scene:
    """The scene's voice-over (a speech prediction, never paid twice) and its word timings,
    stored with the prediction; the scene grows when the line came out longer than it."""
    request = speech_request(params, scene)
    provider = run.runtime.provider
    if request is None or not isinstance(provider, SpeechProvider):
        return scene.with_(voice_asset_id=None, words=None, spoken_seconds=None)

    async def call(existing_id: str | None, on_created: OnCreated) -> SpeechResult:
        return await provider.speak(request, existing_id=existing_id, on_created=on_created)

    async def store(unit: UnitOfWork, result: SpeechResult) -> tuple[Asset, dict[str, Any]]:
        asset = await store_audio(run, job, unit, result.data, result.content_type)
        return asset, {"words": words_to_json(result.words)}

    outcome = await Ledger(run).predict(
        PredictionKind.SPEECH, request, call, store, lambda r: r.meta, scene_index=scene.index
    )
    voice = outcome.asset
    assert voice is not None
    spoken = voice.duration_seconds or 0.0
    words = words_from_json((outcome.output or {}).get("words"))
    if not words:  # a speech prediction stored before its words were: estimate them
        words = estimate_word_timings(request.text, spoken)
    return scene.with_(voice_asset_id=voice.id, words=words_to_json(words), spoken_seconds=spoken)


async def music_for(run: Run, job: Job, params: JobParams, duration: float) -> str | None:
    """The key of the bed under the video: the client's track, a music prediction, or none."""
    if params.music_asset_id is not None:
        track = await run.asset(params.music_asset_id)
        return track.storage_key
    request = music_request(params, duration, seed=scene_seed(job.id, MUSIC_SEED_INDEX))
    provider = run.runtime.provider
    if request is None or not isinstance(provider, MusicProvider):
        return None

    async def call(existing_id: str | None, on_created: OnCreated) -> MediaResult:
        return await provider.compose(request, existing_id=existing_id, on_created=on_created)

    async def store(unit: UnitOfWork, result: MediaResult) -> tuple[Asset, None]:
        return await store_audio(run, job, unit, result.data, result.content_type), None

    outcome = await Ledger(run).predict(
        PredictionKind.MUSIC, request, call, store, lambda r: r.meta
    )
    assert outcome.asset is not None
    return outcome.asset.storage_key


async def store_audio(
    run: Run, job: Job, unit: UnitOfWork, data: bytes, content_type: str
) -> Asset:
    """A voice-over or a music bed, stored as an audio asset of the job."""
    return await AssetStore(unit, run.runtime.blobs).store_bytes(
        data,
        client_id=job.client_id,
        job_id=job.id,
        kind=AssetKind.AUDIO,
        content_type=content_type,
    )


async def normalise(
    run: Run,
    clip: Asset,
    fmt: ClipFormat,
    duration: float,
    overlays: list[Overlay],
    zone: SafeZone | None = None,
) -> str:
    """The key of the clip in THE clip format with its overlays (captions, headline, logo,
    end card) drawn inside `zone`, made once per clip, format, zone and overlay and kept
    beside it, so a re-render re-uses it and the stitch is a stream copy."""
    blobs = run.runtime.blobs
    drawn = "".join(f"-{o.key()}" for o in overlays)
    if overlays and zone is not None:
        drawn += f"-z{zone.key()}"
    key = f"jobs/{run.job_id}/normalised/{clip.id}-{fmt.width}x{fmt.height}-{duration:g}{drawn}.mp4"
    if not await blobs.exists(key):
        async with run.limits.encodes, blobs.local(clip.storage_key) as source:
            with blobs.temp_path(".mp4") as out:
                await normalise_clip(
                    source,
                    out,
                    fmt=fmt,
                    duration=duration,
                    overlays=overlays,
                    safe_zone=zone,
                    timeout=run.runtime.settings.ffmpeg_timeout.total_seconds(),
                )
                await blobs.put_file(key, out, content_type="video/mp4")
    return key


async def stitch(
    run: Run,
    job: Job,
    params: JobParams,
    fmt: ClipFormat,
    scenes: list[Scene],
    clip_keys: list[str],
    music_key: str | None,
) -> tuple[Asset, Asset, tuple[Asset, Asset] | None]:
    """Stitch (stream copy), then lay the soundtrack (audio re-encoded once, the video
    copied), then the poster and the caption files."""
    blobs = run.runtime.blobs
    lengths = [fmt.frames(s.length) / fmt.fps for s in scenes]
    starts = [sum(lengths[:i]) for i in range(len(scenes))]
    async with contextlib.AsyncExitStack() as inputs:
        clips = [await inputs.enter_async_context(blobs.local(k)) for k in clip_keys]
        voices = []
        for scene, start in zip(scenes, starts, strict=True):
            if scene.voice_asset_id:
                voice = await run.asset(scene.voice_asset_id)
                path = await inputs.enter_async_context(blobs.local(voice.storage_key))
                voices.append(VoiceCue(path=path, start=start + NARRATION_LEAD))
        music = await inputs.enter_async_context(blobs.local(music_key)) if music_key else None
        return await _mix_and_store(
            run, job, params, fmt, scenes, starts, sum(lengths), clips, voices, music
        )


async def _mix_and_store(
    run: Run,
    job: Job,
    params: JobParams,
    fmt: ClipFormat,
    scenes: list[Scene],
    starts: list[float],
    duration: float,
    clips: list[Path],
    voices: list[VoiceCue],
    music: Path | None,
) -> tuple[Asset, Asset, tuple[Asset, Asset] | None]:
    blobs = run.runtime.blobs
    timeout = run.runtime.settings.ffmpeg_timeout.total_seconds()
    with (
        blobs.temp_path(".mp4") as stitched,
        blobs.temp_path(".mp4") as video_tmp,
        blobs.temp_path(".jpg") as thumb_tmp,
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
        # clamped to short videos
        await make_thumbnail(video_tmp, thumb_tmp, at_seconds=0.5, timeout=timeout)
        cues = video_cues(params, scenes, starts)
        async with run.runtime.unit() as unit:
            store = AssetStore(unit, blobs)
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
