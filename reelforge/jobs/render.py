"""The render stage: one clip per scene (through the ledger, concurrently), each normalised
to THE clip format the moment it arrives, then a stream-copy stitch and a thumbnail."""

from __future__ import annotations

import contextlib
import time

from reelforge.jobs.predictions import Ledger
from reelforge.jobs.repository import JobChange
from reelforge.jobs.run import Run, band, gather_all, job_params, scene_seed
from reelforge.jobs.scenes import Scene, load_scenes
from reelforge.media.clips import make_thumbnail, normalise_clip, stitch_clips
from reelforge.media.formats import ClipFormat
from reelforge.models import Asset, AssetKind, Job, JobStatus
from reelforge.observability.metrics import JOBS_FINISHED, VIDEO_GEN_DURATION
from reelforge.providers.base import ClipRequest, PredictionKind, input_hash

RENDER_BAND = (30, 90)


async def render(run: Run) -> None:
    started = time.monotonic()
    job = await run.read()
    if job.status != JobStatus.RENDERING.value:
        run.log.info("render.skipped", status=job.status)
        return
    if not job.approved:
        raise RuntimeError("render of an unapproved job")  # the service never queues one
    params = job_params(job)
    fmt = ClipFormat.for_output(params.aspect_ratio, params.resolution)
    scenes = load_scenes(job.storyboard_data)
    normalised: dict[int, str] = {}
    total = len(scenes)

    def progress(_: list[Scene]) -> int:
        return band(RENDER_BAND, len(normalised), total)

    async def render_scene(scene: Scene) -> None:
        async with run.scenes:
            request = await clip_request(run, job, scene)
            if request is None:
                assert scene.source_asset_id is not None
                clip = await run.asset(scene.source_asset_id)
            else:
                clip = await Ledger(run).media(
                    PredictionKind.VIDEO, request, client_id=job.client_id, scene_index=scene.index
                )
            normalised[scene.index] = await normalise(run, clip, fmt, scene.duration)
            await run.update_scene(
                scene.with_(clip_asset_id=clip.id),
                progress=progress,
                change=JobChange(
                    event="scene_rendered",
                    scene_index=scene.index,
                    message=f"scene {scene.index} rendered",
                ),
            )

    await gather_all([render_scene(s) for s in scenes])
    # Every paid call of the render is done; the stitch is free.
    await run.write(
        lambda r, j: r.transition(
            j,
            JobStatus.STITCHING,
            stage="stitch",
            progress=RENDER_BAND[1],
            change=JobChange(event="stitching", message=f"stitching {total} clips"),
        )
    )
    video, thumbnail = await stitch(run, job, [normalised[s.index] for s in scenes])
    await run.finish(
        JobStatus.COMPLETED,
        stage="done",
        progress=100,
        video_asset_id=video.id,
        thumbnail_asset_id=thumbnail.id,
        error_message=None,
        change=JobChange(
            event="completed", message=f"video ready ({video.duration_seconds or 0:.1f} s)"
        ),
    )
    VIDEO_GEN_DURATION.labels(stage="render").observe(time.monotonic() - started)
    JOBS_FINISHED.labels(status=JobStatus.COMPLETED.value).inc()


async def clip_request(run: Run, job: Job, scene: Scene) -> ClipRequest | None:
    """What the provider would be asked for this scene's clip; None for an uploaded clip."""
    if scene.image_asset_id is None:
        raise ValueError(f"scene {scene.index} has no still")
    if scene.source_asset_id and scene.source_asset_id != scene.image_asset_id:
        return None  # the client's own clip is used as it is
    params = job_params(job)
    fmt = ClipFormat.for_output(params.aspect_ratio, params.resolution)
    still, data = await run.blob(scene.image_asset_id)
    return ClipRequest(
        image=data,
        image_content_type=still.content_type,
        prompt=scene.motion_prompt,
        duration=scene.duration,
        width=fmt.width,
        height=fmt.height,
        aspect_ratio=params.aspect_ratio,
        seed=scene_seed(job.id, scene.index),
    )


async def estimate_render(run: Run, job: Job) -> float:
    """What rendering will cost now: only clips not already paid for count."""
    provider = run.runtime.provider
    model = provider.model_for(PredictionKind.VIDEO)
    total = 0.0
    for scene in load_scenes(job.storyboard_data):
        request = await clip_request(run, job, scene)
        if request is None:
            continue
        digest = input_hash(PredictionKind.VIDEO, model, request)
        async with run.runtime.unit() as unit:
            reusable = await run.runtime.jobs(unit).reusable_prediction(job.id, digest)
        if reusable is None:
            total += provider.estimate_cost(PredictionKind.VIDEO, duration=scene.duration)
    return round(total, 6)


async def normalise(run: Run, clip: Asset, fmt: ClipFormat, duration: float) -> str:
    """The key of the clip in THE clip format, made once per clip and format and kept
    beside it, so a re-render re-uses it and the stitch is a stream copy."""
    blobs = run.runtime.blobs
    key = f"jobs/{run.job_id}/normalised/{clip.id}-{fmt.width}x{fmt.height}-{duration:g}.mp4"
    if not await blobs.exists(key):
        async with run.limits.encodes, blobs.local(clip.storage_key) as source:
            with blobs.temp_path(".mp4") as out:
                await normalise_clip(
                    source,
                    out,
                    fmt=fmt,
                    duration=duration,
                    timeout=run.runtime.settings.ffmpeg_timeout.total_seconds(),
                )
                await blobs.put_file(key, out, content_type="video/mp4")
    return key


async def stitch(run: Run, job: Job, clip_keys: list[str]) -> tuple[Asset, Asset]:
    blobs = run.runtime.blobs
    timeout = run.runtime.settings.ffmpeg_timeout.total_seconds()
    async with contextlib.AsyncExitStack() as inputs:
        clips = [await inputs.enter_async_context(blobs.local(k)) for k in clip_keys]
        with blobs.temp_path(".mp4") as video_tmp, blobs.temp_path(".jpg") as thumb_tmp:
            await stitch_clips(clips, video_tmp, timeout=timeout)
            # clamped to short videos
            await make_thumbnail(video_tmp, thumb_tmp, at_seconds=0.5, timeout=timeout)
            video = await run.store_file(
                video_tmp, client_id=job.client_id, kind=AssetKind.VIDEO, content_type="video/mp4"
            )
            thumbnail = await run.store_file(
                thumb_tmp,
                client_id=job.client_id,
                kind=AssetKind.THUMBNAIL,
                content_type="image/jpeg",
            )
    return video, thumbnail
