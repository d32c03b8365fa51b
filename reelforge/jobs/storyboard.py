"""The storyboard stage: plan the scenes (once: the plan is stored with its prediction),
then one still per scene, concurrently, each recorded the moment it is ready."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from reelforge.db import UnitOfWork
from reelforge.jobs.params import DEFAULT_MOTION_PROMPT, JobParams, SceneParams
from reelforge.jobs.predictions import Ledger
from reelforge.jobs.render import estimate_render
from reelforge.jobs.repository import JobChange
from reelforge.jobs.run import Run, band, gather_all, job_params, scene_seed
from reelforge.jobs.scenes import Scene, dump_scenes, load_scenes
from reelforge.jobs.voiceover import fit_duration
from reelforge.media.clips import make_thumbnail
from reelforge.media.formats import ClipFormat
from reelforge.models import AssetKind, Job, JobStatus
from reelforge.observability.metrics import JOBS_FINISHED, VIDEO_GEN_DURATION
from reelforge.providers.base import (
    OnCreated,
    PlannedScene,
    PlanRequest,
    PlanResult,
    PredictionKind,
    StillRequest,
)
from reelforge.providers.planning import MAX_SCENE_SECONDS, MIN_SCENE_SECONDS

# Progress bands of one run: storyboard 0–30, render 30–90, stitch 90–100.
STORYBOARD_BAND = (0, 30)


async def generate_storyboard(run: Run) -> None:
    started = time.monotonic()
    job = await run.read()
    if job.status == JobStatus.PENDING.value:
        job = await run.write(
            lambda r, j: r.transition(
                j,
                JobStatus.GENERATING_STORYBOARD,
                stage="storyboard",
                progress=2,
                change=JobChange(event="storyboard_started", message="planning scenes"),
            )
        )
    if job.status != JobStatus.GENERATING_STORYBOARD.value:
        run.log.info("storyboard.skipped", status=job.status)
        return
    params = job_params(job)
    scenes = load_scenes(job.storyboard_data)
    if not scenes:
        scenes = await plan_scenes(run, job, params)
        scenes_data = dump_scenes(scenes)
        job = await run.write(
            lambda r, j: r.update(
                j,
                storyboard_data=scenes_data,
                progress=band(STORYBOARD_BAND, 1, 3),
                change=JobChange(
                    event="storyboard_planned", message=f"{len(scenes)} scenes planned"
                ),
            )
        )
    fmt = ClipFormat.for_output(params.aspect, params.resolution)
    total = len(scenes)

    def progress(current: list[Scene]) -> int:
        ready = sum(1 for s in current if s.image_asset_id)
        return band((band(STORYBOARD_BAND, 1, 3), STORYBOARD_BAND[1] - 1), ready, total)

    async def make_still(scene: Scene) -> None:
        async with run.scenes:
            asset_id = await still_for(run, job, params, scene, fmt)
            await run.update_scene(
                scene.with_(image_asset_id=asset_id, status="ready"),
                progress=progress,
                change=JobChange(
                    event="scene_still_ready",
                    scene_index=scene.index,
                    message=f"scene {scene.index} still ready",
                ),
            )

    await gather_all([make_still(s) for s in scenes if not s.image_asset_id])
    job = await run.read()
    estimate = await estimate_render(run, job)
    await run.finish(
        JobStatus.STORYBOARD_COMPLETE,
        stage="storyboard",
        progress=STORYBOARD_BAND[1],
        estimated_cost=estimate,
        change=JobChange(
            event="storyboard_complete",
            message=f"storyboard ready; render estimate ${estimate:.2f}",
        ),
    )
    VIDEO_GEN_DURATION.labels(stage="storyboard").observe(time.monotonic() - started)
    JOBS_FINISHED.labels(status=JobStatus.STORYBOARD_COMPLETE.value).inc()


async def plan_scenes(run: Run, job: Job, params: JobParams) -> list[Scene]:
    count = params.scene_count or 1
    default_duration = params.duration / count
    explicit: list[SceneParams] = params.scenes
    if not explicit:
        planned = await plan(run, job, params, count)
        explicit = [
            SceneParams(
                s.description,
                s.image_prompt,
                s.motion_prompt,
                s.duration,
                narration=s.narration,
                headline=s.headline or None,
            )
            for s in planned
        ]
    style = f", {params.style}" if params.style else ""
    if params.brand is not None:
        # The brand's colours lead the picture; its words and logo are drawn over it later.
        style += (
            f", colour palette {params.brand.primary_color} and {params.brand.secondary_color}"
            ", no text, no logos"
        )
    uploads = list(params.asset_ids)
    speaks = params.voice is not None or params.captions != "none"
    durations = platform_durations(
        params, [s.duration or default_duration for s in explicit[:count]]
    )
    scenes = []
    for index, s in enumerate(explicit[:count]):
        # A scene given without narration speaks its description; a planned one, its line;
        # a job that neither speaks nor reads keeps only the lines it was given.
        narration = s.narration if s.narration is not None else s.description
        if not speaks:
            narration = (s.narration or "") if params.scenes else ""
        duration = durations[index]
        scenes.append(
            Scene(
                index=index,
                description=s.description,
                image_prompt=(s.image_prompt or s.description) + style,
                motion_prompt=s.motion_prompt or DEFAULT_MOTION_PROMPT,
                # a scene lasts at least its line and a pause
                duration=fit_duration(duration, narration) if speaks else duration,
                source_asset_id=s.asset_id or (uploads[index] if index < len(uploads) else None),
                narration=narration,
                headline=s.headline or "",
            )
        )
    return scenes


def platform_durations(params: JobParams, durations: list[float]) -> list[float]:
    """Scene durations scaled (evenly) so that together they are within the platform's
    duration rule: a planner's rounding never makes a 4.6 s TikTok ad."""
    rules = params.preset
    total = sum(durations)
    if rules is None or total <= 0 or rules.min_seconds <= total <= rules.max_seconds:
        return durations
    wanted = min(max(total, rules.min_seconds), rules.max_seconds)
    scaled = [min(MAX_SCENE_SECONDS, max(MIN_SCENE_SECONDS, d * wanted / total)) for d in durations]
    return [round(d, 3) for d in scaled]


async def plan(run: Run, job: Job, params: JobParams, count: int) -> list[PlannedScene]:
    """The provider's plan, paid once: its scenes are stored with the prediction, so a
    rerun (after a crash, a retry) reads them back instead of asking again."""
    request = PlanRequest(
        brief=job.prompt,
        scene_count=count,
        target_duration=params.duration,
        style=params.style,
        aspect_ratio=params.aspect,
        platform=params.preset.label if params.preset else None,
        pacing=params.preset.pacing if params.preset else None,
        brand_colors=(params.brand.primary_color, params.brand.secondary_color)
        if params.brand
        else (),
        call_to_action=params.cta,
        headlines=params.headlines,
    )
    provider = run.runtime.provider

    async def call(existing_id: str | None, on_created: OnCreated) -> PlanResult:
        return await provider.plan(request, existing_id=existing_id, on_created=on_created)

    async def store(_: UnitOfWork, result: PlanResult) -> tuple[None, dict[str, Any]]:
        return None, {"scenes": [asdict(s) for s in result.scenes]}

    outcome = await Ledger(run).predict(PredictionKind.PLAN, request, call, store, lambda r: r.meta)
    assert outcome.output is not None
    return [PlannedScene(**s) for s in outcome.output["scenes"]]


async def still_for(run: Run, job: Job, params: JobParams, scene: Scene, fmt: ClipFormat) -> str:
    """The scene's still: the client's uploaded image, a frame of its uploaded clip, or a
    generated image."""
    blobs = run.runtime.blobs
    if scene.source_asset_id:
        asset = await run.asset(scene.source_asset_id)
        if asset.content_type.startswith("image/"):
            return asset.id
        with blobs.temp_path(".jpg") as poster:
            async with blobs.local(asset.storage_key) as source:
                await make_thumbnail(
                    source,
                    poster,
                    at_seconds=0.0,
                    timeout=run.runtime.settings.ffmpeg_timeout.total_seconds(),
                )
            still = await run.store_file(
                poster, client_id=job.client_id, kind=AssetKind.IMAGE, content_type="image/jpeg"
            )
        return still.id
    request = StillRequest(
        prompt=scene.image_prompt,
        width=fmt.width,
        height=fmt.height,
        aspect_ratio=params.aspect,
        seed=scene_seed(job.id, scene.index),
        title=scene.description[:120],
    )
    asset = await Ledger(run).media(
        PredictionKind.IMAGE, request, client_id=job.client_id, scene_index=scene.index
    )
    return asset.id
