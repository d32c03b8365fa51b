"""Exports: the finished video in another size, shape or container."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from pathlib import Path

import structlog

from reelforge.media.clips import Fit, fit_filter, safe_crop_filter
from reelforge.media.ffmpeg import (
    Capabilities,
    ProgressCallback,
    atomic_output,
    capabilities,
    input_args,
    probe,
    run_ffmpeg,
)
from reelforge.media.formats import GIF_FPS, ClipFormat, Container, export_size
from reelforge.media.overlays import SafeZone

log = structlog.get_logger(__name__)

# A constant-rate re-encode aims this much above a platform's minimum bitrate.
CBR_HEADROOM = 1.15

# Generous: exports run in a worker, and a 1080p webm of a long ad takes a while on 2 cores.
EXPORT_TIMEOUT_SECONDS = 1800.0


def webm_codecs(caps: Capabilities) -> tuple[list[str], list[str]]:
    """Video and audio encoder options for webm: VP9 + Opus when built in, else VP8 + Vorbis."""
    if "libvpx-vp9" in caps.encoders:
        # Realtime mode, fastest speed: an export should take seconds, not minutes.
        video = [
            *("-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"),
            *("-row-mt", "1", "-crf", "33", "-b:v", "0"),
        ]
    elif "libvpx" in caps.encoders:
        video = [
            *("-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8"),
            *("-crf", "10", "-b:v", "2M"),
        ]
    else:
        raise RuntimeError("this ffmpeg build has no VP8/VP9 encoder")
    if "libopus" in caps.encoders:
        audio = ["-c:a", "libopus", "-b:a", "96k"]
    elif "libvorbis" in caps.encoders:
        audio = ["-c:a", "libvorbis", "-q:a", "4"]
    else:
        audio = ["-c:a", "vorbis", "-strict", "experimental"]
    return video, audio


def _scaled_progress(
    progress: ProgressCallback, *, duration: float, start: float, span: float
) -> ProgressCallback:
    """Turn ffmpeg's output position (seconds) into a 0..1 fraction of the whole export."""
    last = -1.0

    async def report(position: float) -> None:
        nonlocal last
        fraction = start + span * min(1.0, position / duration) if duration > 0 else start
        if fraction - last >= 0.01:  # at most ~100 calls per export
            last = fraction
            await progress(fraction)

    return report


async def export_video(
    src: Path,
    out: Path,
    *,
    aspect: str,
    resolution: str,
    container: Container,
    fit: Fit,
    progress: Callable[[float], Awaitable[None]] | None = None,
    timeout: float = EXPORT_TIMEOUT_SECONDS,
    keep: SafeZone | None = None,
    max_fps: float | None = None,
    min_video_kbps: int | None = None,
) -> None:
    """Export ``src`` at ``aspect``/``resolution`` as mp4 (H.264/AAC), webm or gif.

    ``fit="crop"`` fills the frame and crops the overflow, ``"pad"`` fits the whole
    picture and pads with black; with ``keep`` (the source's safe zone, where things were
    drawn) a crop goes no deeper than it. A GIF has no sound, runs at 12 fps and is at most
    480 pixels wide (see :func:`reelforge.media.formats.export_size`). A platform's rules:
    the frame rate is brought below ``max_fps``, and an mp4 whose video came out under
    ``min_video_kbps`` is encoded again at a constant rate above it. ``progress`` is
    awaited with 0..1 as the export advances, and with 1.0 at the end.
    """
    width, height = export_size(aspect, resolution, container)
    info = await probe(src)
    duration = info.duration_seconds
    if keep is not None and fit == "crop":
        video = safe_crop_filter((info.width, info.height), width, height, keep)
    else:
        video = fit_filter(width, height, fit)
    if max_fps is not None and info.fps >= max_fps:
        video += f",fps={ClipFormat.fps}"

    def tracker(start: float, span: float) -> ProgressCallback | None:
        if progress is None:
            return None
        return _scaled_progress(progress, duration=duration, start=start, span=span)

    with atomic_output(out) as tmp:
        if container == "mp4":
            await _export_mp4(src, tmp, video, ["-crf", "23"], timeout, tracker(0.0, 1.0))
            made = await probe(tmp)
            if min_video_kbps is not None and (made.video_kbps or 0) < min_video_kbps:
                # Flat pictures compress below a platform's floor: a constant rate (x264
                # fills with padding) is the one way to meet it.
                rate = f"{math.ceil(min_video_kbps * CBR_HEADROOM)}k"
                cbr = [
                    *("-b:v", rate, "-minrate", rate, "-maxrate", rate),
                    *("-bufsize", f"{2 * math.ceil(min_video_kbps * CBR_HEADROOM)}k"),
                    *("-x264-params", "nal-hrd=cbr:force-cfr=1"),
                ]
                await _export_mp4(src, tmp, video, cbr, timeout, None)
        elif container == "webm":
            v_codec, a_codec = webm_codecs(await capabilities())
            await run_ffmpeg(
                [
                    *input_args(src),
                    *("-map", "0:V:0", "-map", "0:a:0?", "-vf", f"{video},format=yuv420p"),
                    *v_codec,
                    *a_codec,
                    *("-ar", "48000", "-ac", "2", "-f", "webm", str(tmp)),
                ],
                timeout=timeout,
                progress=tracker(0.0, 1.0),
            )
        elif container == "gif":
            await _export_gif(src, tmp, video=video, timeout=timeout, tracker=tracker)
        else:
            raise ValueError(f"unknown container {container!r}")
    if progress is not None:
        await progress(1.0)
    log.info(
        "media.export.done",
        out=str(out),
        container=container,
        size=f"{width}x{height}",
        fit=fit,
    )


async def _export_mp4(
    src: Path,
    tmp: Path,
    video: str,
    rate: list[str],
    timeout: float,
    progress: ProgressCallback | None,
) -> None:
    await run_ffmpeg(
        [
            *input_args(src),
            *("-map", "0:V:0", "-map", "0:a:0?", "-vf", f"{video},format=yuv420p"),
            *("-c:v", "libx264", "-preset", "veryfast", *rate),
            *("-c:a", "aac", "-b:a", "192k", "-ar", "48000", "-ac", "2"),
            *("-movflags", "+faststart", "-f", "mp4", str(tmp)),
        ],
        timeout=timeout,
        progress=progress,
    )


async def _export_gif(
    src: Path,
    tmp: Path,
    *,
    video: str,
    timeout: float,
    tracker: Callable[[float, float], ProgressCallback | None],
) -> None:
    # Two passes: palettegen in the same graph as paletteuse would hold every frame in
    # memory until the palette is known (hundreds of MB for a minute of video).
    palette = tmp.with_name(tmp.name + ".palette.png")
    chain = f"fps={GIF_FPS},{video}"
    try:
        await run_ffmpeg(
            [
                *input_args(src),
                *("-map", "0:V:0", "-vf", f"{chain},palettegen=stats_mode=diff"),
                *("-frames:v", "1", "-update", "1", "-f", "image2", str(palette)),
            ],
            timeout=timeout,
            progress=tracker(0.0, 0.5),
        )
        await run_ffmpeg(
            [
                *input_args(src),
                *input_args(palette),
                *(
                    "-filter_complex",
                    f"[0:V:0]{chain}[v];[v][1:v]paletteuse=dither=bayer:bayer_scale=4",
                ),
                *("-an", "-loop", "0", "-f", "gif", str(tmp)),
            ],
            timeout=timeout,
            progress=tracker(0.5, 0.5),
        )
    finally:
        palette.unlink(missing_ok=True)
