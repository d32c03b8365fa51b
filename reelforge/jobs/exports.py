"""The export stage: transcode a completed job's video to one more size or format. Each
write of the export row is a unit of work of its own; none is held while FFmpeg works."""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

import structlog

from reelforge.db import UnitOfWork
from reelforge.jobs.overlays import drawn_zone
from reelforge.jobs.params import ExportTarget
from reelforge.jobs.run import job_params
from reelforge.jobs.scenes import load_scenes
from reelforge.media.audio import keep_true_peak
from reelforge.media.clips import Fit
from reelforge.media.ffmpeg import probe
from reelforge.media.formats import Container
from reelforge.media.platforms import check_file
from reelforge.media.transcode import export_video as transcode
from reelforge.models import AssetKind, ExportStatus
from reelforge.observability.metrics import JOB_FAILURES, VIDEO_GEN_DURATION
from reelforge.runtime import Runtime
from reelforge.storage.repository import AssetRepository
from reelforge.storage.service import CONTENT_TYPES, AssetStore
from reelforge.webhooks.outbox import WebhookOutbox

log = structlog.get_logger(__name__)

RUNNABLE = (ExportStatus.QUEUED.value, ExportStatus.PROCESSING.value)


async def export_video(runtime: Runtime, export_id: str) -> None:
    started = time.monotonic()
    async with runtime.unit() as unit:
        repo = runtime.jobs(unit)
        export = await repo.get_export(export_id)
        if export.status not in RUNNABLE:
            return
        job = await repo.get(export.job_id, client_id=None)
        source = await AssetRepository(unit).get(export.source_asset_id or "", client_id=None)
        await repo.update_export(export_id, status=ExportStatus.PROCESSING.value)
    target = ExportTarget(**export.format)
    rules = target.preset
    last_reported = [0]

    async def on_progress(fraction: float) -> None:
        percent = int(fraction * 100)
        if percent >= last_reported[0] + 20:  # a write per fifth, not per frame
            last_reported[0] = percent
            await set_export(runtime, export_id, progress=percent)

    try:
        keep = drawn_zone(job_params(job), load_scenes(job.storyboard_data))
        with runtime.blobs.temp_path(f".{target.container}") as tmp:
            async with runtime.blobs.local(source.storage_key) as source_path:
                await transcode(
                    source_path,
                    tmp,
                    aspect=target.aspect,
                    resolution=target.resolution,
                    container=cast(Container, target.container),  # validated by ExportTarget
                    fit=cast(Fit, target.fit),
                    progress=on_progress,
                    timeout=runtime.settings.ffmpeg_timeout.total_seconds(),
                    keep=keep,
                    max_fps=rules.max_fps if rules else None,
                    min_video_kbps=rules.min_video_kbps if rules else None,
                )
            checks = None
            if rules is not None:
                # The file made, measured against its platform's row, and said so.
                size = (await asyncio.to_thread(tmp.stat)).st_size
                checks = check_file(rules, size, await probe(tmp))
                failed = [c["rule"] for c in checks if not c["passed"]]
                log.info("export.platform_checked", export_id=export_id, failed=failed)
            # The export keeps the video's loudness (its audio is re-encoded, never
            # re-levelled); measured again so the file's own figure is on record.
            loudness = None
            if source.loudness_lufs is not None and target.container != "gif":
                loudness = await keep_true_peak(tmp)
            async with runtime.unit() as unit:
                asset = await AssetStore(unit, runtime.blobs).store_file(
                    tmp,
                    client_id=job.client_id,
                    job_id=job.id,
                    kind=AssetKind.EXPORT,
                    content_type=CONTENT_TYPES[target.container],
                    loudness=loudness,
                )
                await finish_export(
                    runtime,
                    unit,
                    export_id,
                    status=ExportStatus.COMPLETED.value,
                    progress=100,
                    asset_id=asset.id,
                    error=None,
                    platform_checks=checks,
                )
        VIDEO_GEN_DURATION.labels(stage="export").observe(time.monotonic() - started)
    except Exception as exc:
        log.error("export.failed", job_id=job.id, export_id=export_id, error=str(exc))
        JOB_FAILURES.labels(stage="export", reason=type(exc).__name__).inc()
        async with runtime.unit() as unit:
            await finish_export(
                runtime, unit, export_id, status=ExportStatus.FAILED.value, error=str(exc)[:2000]
            )


async def set_export(runtime: Runtime, export_id: str, **values: Any) -> None:
    async with runtime.unit() as unit:
        await runtime.jobs(unit).update_export(export_id, **values)


async def finish_export(runtime: Runtime, unit: UnitOfWork, export_id: str, **values: Any) -> None:
    """The export's last write and its webhook event (export.completed or .failed), in
    `unit`; the event is queued once that has committed."""
    repo = runtime.jobs(unit)
    export = await repo.update_export(export_id, **values)
    job = await repo.get(export.job_id, client_id=None)
    outbox = WebhookOutbox(runtime.settings)
    await outbox.export_finished(unit, job, export)

    async def send() -> None:
        await outbox.send(runtime.enqueue)

    unit.after_commit(send)
