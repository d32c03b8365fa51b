"""Scene clips: Ken-Burns clips from stills, normalising any clip, stitching, thumbnails.

Every clip is brought into one :class:`ClipFormat` as soon as it exists, so the final
stitch is a stream copy (fast, lossless) rather than a re-encode of the whole video.
"""

from __future__ import annotations

import random
import secrets
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import structlog

from reelforge.media.ffmpeg import (
    MediaInfo,
    atomic_output,
    input_args,
    probe,
    run_ffmpeg,
    run_ffmpeg_inputs,
)
from reelforge.media.formats import ClipFormat
from reelforge.media.overlays import Frame, Overlay, SafeZone, safe_zone_for

log = structlog.get_logger(__name__)

Fit = Literal["crop", "pad"]
PICTURE_DEMUXERS = ("image2", "png_pipe", "jpeg_pipe")

# How much larger than the output the still is before zooming: zoompan positions are
# whole input pixels, so a finer grid makes the slow pan smoother (less "stepping").
_KEN_BURNS_OVERSCALE = 2
_KEN_BURNS_MAX_ZOOM = 1.15


def _silent_audio(fmt: ClipFormat) -> list[str]:
    layout = "stereo" if fmt.audio_channels == 2 else "mono"
    return ["-f", "lavfi", "-i", f"anullsrc=r={fmt.audio_sample_rate}:cl={layout}"]


def fit_filter(width: int, height: int, fit: Fit) -> str:
    """Scale (square pixels first) then centre-crop to fill, or fit and pad with black."""
    if fit not in ("crop", "pad"):
        raise ValueError(f"fit must be 'crop' or 'pad', not {fit!r}")
    # Anamorphic sources (SAR != 1) are first stretched to square pixels.
    square = "scale=trunc(iw*sar/2)*2:ih,setsar=1"
    if fit == "crop":
        return (
            f"{square},scale={width}:{height}:force_original_aspect_ratio=increase,"
            f"crop={width}:{height},setsar=1"
        )
    return (
        f"{square},scale={width}:{height}:force_original_aspect_ratio=decrease"
        f":force_divisible_by=2,pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1"
    )


def safe_crop_filter(source: tuple[int, int], width: int, height: int, keep: SafeZone) -> str:
    """Fill ``width`` x ``height`` from a ``source`` (w, h) frame, cropping no further than
    its safe zone ``keep``: what was drawn inside it (captions, logo, headline, the end
    card) stays whole; where the shapes differ too much, the rest is padded with black."""
    sw, sh = source
    left, right, top, bottom = keep.margins(sw, sh)
    safe_w, safe_h = sw - left - right, sh - top - bottom
    scale = min(max(width / sw, height / sh), width / safe_w, height / safe_h)
    nw, nh = _even_floor(sw * scale), _even_floor(sh * scale)
    cw, ch = min(nw, width), min(nh, height)
    # Centred on the safe zone's centre, within the scaled frame.
    cx, cy = (left + safe_w / 2) * nw / sw, (top + safe_h / 2) * nh / sh
    x = round(min(max(cx - cw / 2, 0), nw - cw))
    y = round(min(max(cy - ch / 2, 0), nh - ch))
    return (
        f"scale=trunc(iw*sar/2)*2:ih,setsar=1,scale={nw}:{nh},crop={cw}:{ch}:{x}:{y},"
        f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1"
    )


def _even_floor(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def ken_burns_filter(fmt: ClipFormat, *, frames: int, seed: int) -> str:
    """A seeded slow zoom (in or out) with a drift between two points, ``frames`` long."""
    rng = random.Random(seed)
    z0, z1 = 1.0, _KEN_BURNS_MAX_ZOOM
    if rng.random() < 0.5:
        z0, z1 = z1, z0
    # Pan between two points, as fractions of the room left by the zoom.
    ax, ay, bx, by = (round(rng.uniform(0.1, 0.9), 3) for _ in range(4))
    last = max(1, frames - 1)
    t = f"(on/{last})"
    big_w, big_h = fmt.width * _KEN_BURNS_OVERSCALE, fmt.height * _KEN_BURNS_OVERSCALE
    return (
        f"scale={big_w}:{big_h}:force_original_aspect_ratio=increase,crop={big_w}:{big_h},"
        f"format={fmt.pix_fmt},"
        f"zoompan=z='{z0}+({z1}-{z0})*{t}'"
        f":x='(iw-iw/zoom)*({ax}+({bx}-{ax})*{t})'"
        f":y='(ih-ih/zoom)*({ay}+({by}-{ay})*{t})'"
        f":d={frames}:s={fmt.width}x{fmt.height}:fps={fmt.fps},"
        f"setsar=1,{fmt.color_filter()}"
    )


async def ken_burns_clip(
    still: Path,
    out: Path,
    *,
    fmt: ClipFormat,
    duration: float,
    seed: int,
    timeout: float = 300.0,
) -> None:
    """Animate a still into a normalised clip of ``duration`` seconds (to the nearest frame).

    The still may have any size or shape; it is cropped to fill ``fmt``. Includes the
    silent AAC track that every normalised clip carries.
    """
    if duration <= 0:
        raise ValueError("duration must be positive")
    frames = fmt.frames(duration)
    graph = ken_burns_filter(fmt, frames=frames, seed=seed)
    with atomic_output(out) as tmp:
        await run_ffmpeg(
            [
                *input_args(still),
                *_silent_audio(fmt),
                *("-filter_complex", f"[0:V:0]{graph}[v]", "-map", "[v]", "-map", "1:a"),
                *("-frames:v", str(frames), "-t", f"{frames / fmt.fps:.6f}"),
                *fmt.output_args(),
                str(tmp),
            ],
            timeout=timeout,
        )
    log.debug("media.clip.ken_burns", out=str(out), frames=frames, seed=seed)


async def normalise_clip(
    src: Path,
    out: Path,
    *,
    fmt: ClipFormat,
    fit: Fit = "crop",
    duration: float | None = None,
    overlays: Sequence[Overlay] = (),
    safe_zone: SafeZone | None = None,
    timeout: float = 600.0,
) -> None:
    """Re-encode any video (or still image) into ``fmt``.

    Size by ``fit``, frame rate, pixel format, colour (limited-range BT.709) and codecs are
    made to match; the source's first audio track is kept (resampled to 48 kHz stereo), or
    a silent one added. With ``duration`` the clip is trimmed, or looped when the source is
    shorter; a still image needs a ``duration`` and is held for it. ``overlays`` (captions,
    a headline, a logo, the end card) are drawn in the same pass, inside ``safe_zone`` (by default
    the one of the frame's aspect ratio). ``src`` may be an untrusted upload.
    """
    info = await probe(src)
    if duration is None:
        if info.is_image:
            raise ValueError("a still image needs a duration")
        duration = info.duration_seconds
    if duration <= 0:
        raise ValueError("duration must be positive")
    frames = fmt.frames(duration)
    seconds = f"{frames / fmt.fps:.6f}"

    video = fit_filter(fmt.width, fmt.height, fit)
    if info.is_image:
        # Scale once, then repeat that frame and give the copies timestamps at fmt.fps.
        video += f",loop=loop={frames - 1}:size=1,setpts=N/({fmt.fps}*TB)"
    else:
        video += f",fps={fmt.fps}"
    video += f",{fmt.color_filter()}"

    args: list[str] = []
    if not info.is_image and duration > info.duration_seconds + 0.5 / fmt.fps:
        args += ["-stream_loop", "-1"]  # a short clip is looped to fill the scene
    args += input_args(src)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".overlays-", dir=out.parent) as work_dir:
        pictures = 0
        if overlays:
            frame = Frame(
                fmt=fmt,
                safe_zone=safe_zone or safe_zone_for(fmt.width, fmt.height),
                duration=frames / fmt.fps,
                work_dir=Path(work_dir),
            )
            video += "".join(f",{overlay.filter(frame)}" for overlay in overlays)
            for picture in frame.inputs:  # a logo: a png or jpg upload, read as one
                args += input_args(picture, demuxers=PICTURE_DEMUXERS)
            pictures = len(frame.inputs)
        await _encode_normalised(
            args,
            video,
            info.has_audio,
            out,
            fmt,
            frames,
            seconds,
            timeout,
            audio_input=1 + pictures,
        )
    log.debug(
        "media.clip.normalised",
        src=str(src),
        out=str(out),
        frames=frames,
        image=info.is_image,
        kept_audio=info.has_audio,
        overlays=len(overlays),
    )


async def _encode_normalised(
    args: list[str],
    video: str,
    has_audio: bool,
    out: Path,
    fmt: ClipFormat,
    frames: int,
    seconds: str,
    timeout: float,
    *,
    audio_input: int = 1,
) -> None:
    graph = f"[0:V:0]{video}[v]"
    if has_audio:
        layout = "stereo" if fmt.audio_channels == 2 else "mono"
        # apad: a soundtrack shorter than the picture is filled with silence, then -t cuts.
        graph += (
            f";[0:a:0]aresample={fmt.audio_sample_rate},"
            f"aformat=sample_fmts=fltp:channel_layouts={layout},apad[a]"
        )
        audio_map = "[a]"
    else:
        args += _silent_audio(fmt)
        audio_map = f"{audio_input}:a"
    with atomic_output(out) as tmp:
        await run_ffmpeg(
            [
                *args,
                *("-filter_complex", graph, "-map", "[v]", "-map", audio_map),
                *("-frames:v", str(frames), "-t", seconds),
                *fmt.output_args(),
                str(tmp),
            ],
            timeout=timeout,
        )


def _concat_entry(path: Path) -> str:
    text = str(path.absolute())
    if any(ch in text for ch in "\n\r\0"):
        raise ValueError(f"unsupported character in clip path {text!r}")
    # ffconcat quoting: inside '...', a quote is written as '\'' (close, escaped, reopen).
    return "file '" + text.replace("'", "'\\''") + "'\n"


def _signature(info: MediaInfo) -> tuple[object, ...]:
    # What must match for a stream copy to play back cleanly. (Pixel format and profile
    # are not in a headers-only dump; ClipFormat pins them at encoding time. The colour
    # range and matrix are: an untagged or full-range clip is refused.)
    return (
        info.video_codec,
        info.width,
        info.height,
        info.fps,
        info.pix_fmt,
        info.color_range,
        info.color_space,
        info.audio_codec,
        info.audio_sample_rate,
        info.audio_channels,
    )


async def stitch_clips(clips: Sequence[Path], out: Path, *, timeout: float = 120.0) -> None:
    """Join normalised clips into one mp4 by stream copy (no re-encode).

    The clips must share codec, size, frame rate and audio layout (see
    :class:`ClipFormat`). They are checked from the input dump of the same ffmpeg run, so
    checking costs no extra process; on a mismatch the output is discarded and
    :class:`ValueError` raised. Each clip's first keyframe may gain its parameter sets
    in-band (the concat demuxer's default), which keeps clips with differing codec headers
    decodable; every other packet is copied byte for byte.
    """
    if not clips:
        raise ValueError("nothing to stitch")
    out.parent.mkdir(parents=True, exist_ok=True)
    listing = out.with_name(f".{out.stem}.{secrets.token_hex(4)}.ffconcat")
    try:
        listing.write_text("ffconcat version 1.0\n" + "".join(_concat_entry(c) for c in clips))
        args: list[str] = []
        for clip in clips:
            # Opened only so that ffmpeg prints their stream details (from the headers, to
            # keep it cheap); nothing is read from them.
            args += input_args(clip, headers_only=True)
        n = len(clips)
        # -safe 0 allows absolute paths: every path in the list was written by us above.
        args += ["-f", "concat", "-safe", "0", *input_args(listing, demuxers=None)]
        with atomic_output(out) as tmp:
            infos = await run_ffmpeg_inputs(
                [
                    *args,
                    *("-map", f"{n}:v", "-map", f"{n}:a?", "-c", "copy"),
                    *("-movflags", "+faststart", "-f", "mp4", str(tmp)),
                ],
                timeout=timeout,
            )
            _check_same_format(clips, infos[:n])
    finally:
        listing.unlink(missing_ok=True)
    log.debug("media.clips.stitched", out=str(out), clips=n)


def _check_same_format(clips: Sequence[Path], infos: Sequence[MediaInfo | None]) -> None:
    if len(infos) != len(clips):
        raise ValueError("could not read every clip")
    first = infos[0]
    for clip, info in zip(clips, infos, strict=True):
        if info is None:
            raise ValueError(f"clip {clip.name} has no video stream")
        if first is None or _signature(info) != _signature(first):
            raise ValueError(
                f"clip {clip.name} is not in the same format as {clips[0].name}: "
                f"{_signature(info)} != {_signature(first) if first else None}; "
                "normalise it first"
            )


async def make_thumbnail(
    video: Path,
    out: Path,
    *,
    at_seconds: float = 0.5,
    width: int | None = None,
    timeout: float = 30.0,
) -> None:
    """Write a JPEG poster frame taken ``at_seconds`` in (clamped to the video's length)."""
    info = await probe(video)
    last_frame = max(0.0, info.duration_seconds - 1.0 / (info.fps or 24.0))
    at = min(max(0.0, at_seconds), last_frame)
    vf = f"scale={width}:-2" if width else "null"
    with atomic_output(out) as tmp:
        await run_ffmpeg(
            [
                *("-ss", f"{at:.3f}"),
                *input_args(video),
                *("-map", "0:V:0", "-vf", vf, "-frames:v", "1", "-update", "1"),
                *("-c:v", "mjpeg", "-q:v", "3", "-f", "image2", str(tmp)),
            ],
            timeout=timeout,
        )
