"""The soundtrack: voice-over lines placed on the timeline, a music bed ducked under them,
and the final mix mastered to a broadcast loudness (EBU R128), as broadcast tools do it:
measure, apply a gain, hold the peaks with an oversampled (true-peak) limiter, measure again.

The video stream is never touched here: :func:`mix_soundtrack` copies it and encodes the
audio once (the mix waits in a lossless float WAV). Loudness is measured with FFmpeg's
``ebur128`` (integrated LUFS, true peak).
"""

from __future__ import annotations

import asyncio
import math
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog

from reelforge.media.ffmpeg import (
    AUDIO_DEMUXERS,
    FFmpegError,
    atomic_output,
    input_args,
    run_ffmpeg,
    run_ffmpeg_report,
)
from reelforge.media.formats import ClipFormat

log = structlog.get_logger(__name__)

# The loudness every finished video is normalised to (the one place these figures live). No
# platform publishes one; -14 LUFS integrated with true peaks at or under -1 dBTP is the
# working figure for social video.
TARGET_LUFS = -14.0
MAX_TRUE_PEAK_DB = -1.0

# The limiter holds true peaks a decibel under the ceiling: each lossy encode of the mix (this
# one, and an export's) adds a few tenths of overshoot.
LIMITER_CEILING_DB = MAX_TRUE_PEAK_DB - 1.0
# It limits at four times the sample rate (192 kHz for 48 kHz), where the peaks between
# samples are samples themselves: the oversampling ebur128 measures true peak with.
_OVERSAMPLE = 4
_LIMITER_ATTACK_MS = 5.0  # its look-ahead: the gain is down before a peak arrives
_LIMITER_RELEASE_MS = 60.0
# Limiting costs a little loudness, so the gain is corrected by measurement until the mix is
# this close to the target, in at most this many passes over the (lossless) mix.
_CONVERGED_LU = 0.1
_MAX_PASSES = 5
# More peak reduction than this would audibly crush the sound (a lone click in silence, say):
# the mix stays quieter than the target instead.
_MAX_LIMITING_DB = 12.0

# Levels the parts are brought to before mixing (the final pass sets the overall level):
# the voice sits well above the bed, and the bed drops further while the voice speaks.
VOICE_LUFS = -18.0
MUSIC_LUFS = -29.0
MUSIC_FADE_IN = 1.0
MUSIC_FADE_OUT = 2.0

SILENCE_LUFS = -70.0  # ebur128's floor: a silent track measures this


@dataclass(frozen=True)
class Loudness:
    integrated: float  # LUFS
    true_peak: float  # dBTP
    lra: float  # LU


@dataclass(frozen=True)
class VoiceCue:
    """One voice-over line and where on the video's timeline it starts (seconds)."""

    path: Path
    start: float


_I_RE = re.compile(r"I:\s+(-?[\d.]+|-inf) LUFS")
_LRA_RE = re.compile(r"LRA:\s+(-?[\d.]+) LU\b")
_PEAK_RE = re.compile(r"Peak:\s+(-?[\d.]+|-inf) dBFS")


def _number(text: str) -> float:
    return -math.inf if text == "-inf" else float(text)


def parse_ebur128(report: str) -> Loudness:
    summary = report[report.rfind("Summary:") :]
    i, lra, peak = _I_RE.search(summary), _LRA_RE.search(summary), _PEAK_RE.search(summary)
    if not (i and lra and peak):
        raise ValueError("no ebur128 summary in the ffmpeg output")
    return Loudness(
        integrated=_number(i.group(1)), true_peak=_number(peak.group(1)), lra=float(lra.group(1))
    )


async def measure_loudness(
    path: Path, *, stream: str = "0:a:0", filters: str | None = None, timeout: float = 120.0
) -> Loudness:
    """Integrated loudness, true peak and loudness range of one audio stream (EBU R128),
    after ``filters`` when given (what a filter chain would make of it, nothing written)."""
    chain = f"{filters}," if filters else ""
    report = await run_ffmpeg_report(
        [
            *input_args(path, demuxers=AUDIO_DEMUXERS),
            *("-map", stream, "-af", f"{chain}ebur128=peak=true:framelog=verbose"),
            *("-f", "null", "-"),
        ],
        timeout=timeout,
    )
    return parse_ebur128(report)


def _gain_to(measured: Loudness, target: float) -> float:
    if measured.integrated <= SILENCE_LUFS or not math.isfinite(measured.integrated):
        return 0.0
    return round(target - measured.integrated, 2)


@dataclass(frozen=True)
class _Graph:
    args: list[str]  # inputs
    graph: str  # ends in [mix]


def _mix_graph(
    video: Path,
    voices: Sequence[tuple[VoiceCue, float]],
    music: tuple[Path, float] | None,
    *,
    duration: float,
    fmt: ClipFormat,
    loop_music: bool,
) -> _Graph:
    layout = "stereo" if fmt.audio_channels == 2 else "mono"
    norm = f"aresample={fmt.audio_sample_rate},aformat=sample_fmts=fltp:channel_layouts={layout}"
    d = f"{duration:.6f}"
    args = input_args(video)
    parts = [f"[0:a:0]{norm},apad,atrim=0:{d}[bg]"]
    beds = ["[bg]"]
    for i, (cue, gain) in enumerate(voices, start=1):
        args += input_args(cue.path, demuxers=AUDIO_DEMUXERS)
        delay = max(0, round(cue.start * 1000))
        parts.append(f"[{i}:a:0]{norm},volume={gain}dB,adelay=delays={delay}:all=1[v{i}]")
    if voices:
        labels = "".join(f"[v{i}]" for i in range(1, len(voices) + 1))
        parts.append(
            f"{labels}amix=inputs={len(voices)}:normalize=0:duration=longest,apad,atrim=0:{d}"
            + (",asplit=2[voice][key]" if music else "[voice]")
        )
        beds.append("[voice]")
    if music:
        path, gain = music
        m = len(voices) + 1
        if loop_music:
            args += ["-stream_loop", "-1"]
        args += input_args(path, demuxers=AUDIO_DEMUXERS)
        fade_out = min(MUSIC_FADE_OUT, duration / 3)
        shaped = (
            f"[{m}:a:0]{norm},volume={gain}dB,apad,atrim=0:{d},"
            f"afade=t=in:d={min(MUSIC_FADE_IN, duration / 3):.3f},"
            f"afade=t=out:st={duration - fade_out:.6f}:d={fade_out:.3f}"
        )
        if voices:
            # Ducking: the voice is the sidechain key; the bed drops ~10 dB while it speaks.
            parts.append(f"{shaped}[bed]")
            parts.append(
                "[bed][key]sidechaincompress=threshold=0.03:ratio=8:attack=15:release=450"
                ":knee=4[music]"
            )
        else:
            parts.append(f"{shaped}[music]")
        beds.append("[music]")
    parts.append(
        f"{''.join(beds)}amix=inputs={len(beds)}:normalize=0:duration=first,atrim=0:{d}[mix]"
    )
    return _Graph(args=args, graph=";".join(parts))


def master_chain(gain: float, *, sample_rate: int) -> str:
    """The mastering filters: ``gain`` dB, then a true-peak limiter at
    :data:`LIMITER_CEILING_DB` (run oversampled, its delay compensated so every word stays
    where it was placed), back at ``sample_rate``."""
    limit = 10 ** (LIMITER_CEILING_DB / 20)
    return (
        f"volume={gain:.2f}dB,aresample={sample_rate * _OVERSAMPLE},"
        f"alimiter=limit={limit:.6f}:attack={_LIMITER_ATTACK_MS:g}"
        f":release={_LIMITER_RELEASE_MS:g}:level=false:latency=true,"
        f"aresample={sample_rate}"
    )


async def master_gain(
    mix: Path, measured: Loudness, *, sample_rate: int, timeout: float = 120.0
) -> float:
    """The gain that brings ``mix`` (already ``measured``) to :data:`TARGET_LUFS` through
    :func:`master_chain`. When the peaks allow it the limiter never acts and the gain is
    simply the difference; when it does act it takes some loudness with it, so the result is
    measured and the gain corrected (secant steps: loudness grows less than the gain)."""
    linear = TARGET_LUFS - measured.integrated
    # The gain at which the loudest peak is limited by _MAX_LIMITING_DB.
    most = LIMITER_CEILING_DB + _MAX_LIMITING_DB - measured.true_peak
    gain, previous = round(min(linear, most), 2), None
    for _ in range(_MAX_PASSES):
        level = await measure_loudness(
            mix, filters=master_chain(gain, sample_rate=sample_rate), timeout=timeout
        )
        error = TARGET_LUFS - level.integrated
        if abs(error) <= _CONVERGED_LU:
            break
        slope = 1.0
        if previous is not None and gain != previous[0]:
            slope = (level.integrated - previous[1]) / (gain - previous[0])
        previous = (gain, level.integrated)
        step = error / min(1.0, max(slope, 0.25))
        gain = min(most, round(gain + step, 2))
        if gain == previous[0]:
            break  # at the most limiting allowed: as loud as this mix will go
    return gain


async def mix_soundtrack(
    video: Path,
    out: Path,
    *,
    voices: Sequence[VoiceCue],
    music: Path | None,
    duration: float,
    fmt: ClipFormat,
    loop_music: bool = False,
    timeout: float = 600.0,
) -> Loudness:
    """Lay the voice-over and the (ducked, faded, trimmed) music over ``video``'s own sound,
    master the mix to :data:`TARGET_LUFS` with true peaks under :data:`MAX_TRUE_PEAK_DB`
    and write ``out`` with the video stream copied and the audio encoded once. Returns the
    loudness measured on ``out``.

    The mix is rendered once to a float WAV and measured; :func:`master_gain` finds the gain
    that, through the true-peak limiter, reaches the target; the encode applies it.
    """
    levels = await asyncio.gather(
        *(measure_loudness(cue.path, timeout=timeout) for cue in voices),
        *([measure_loudness(music, timeout=timeout)] if music else []),
    )
    voice_gains = [_gain_to(level, VOICE_LUFS) for level in levels[: len(voices)]]
    music_part = (music, _gain_to(levels[-1], MUSIC_LUFS)) if music else None
    built = _mix_graph(
        video,
        list(zip(voices, voice_gains, strict=True)),
        music_part,
        duration=duration,
        fmt=fmt,
        loop_music=loop_music,
    )
    rate = fmt.audio_sample_rate
    with tempfile.TemporaryDirectory(prefix=".mix-", dir=out.parent) as work_dir:
        mix = Path(work_dir) / "mix.wav"
        await run_ffmpeg(
            [
                *built.args,
                *("-filter_complex", built.graph, "-map", "[mix]"),
                *("-c:a", "pcm_f32le", "-f", "wav", str(mix)),
            ],
            timeout=timeout,
        )
        measured = await measure_loudness(mix, timeout=timeout)
        silent = not math.isfinite(measured.integrated) or measured.integrated <= SILENCE_LUFS
        gain = 0.0
        if silent:
            chain = "anull"  # nothing to master (no voice, no music, a silent video)
        else:
            gain = await master_gain(mix, measured, sample_rate=rate, timeout=timeout)
            chain = master_chain(gain, sample_rate=rate)
        with atomic_output(out) as tmp:
            await run_ffmpeg(
                [
                    *input_args(video),
                    *input_args(mix, demuxers=AUDIO_DEMUXERS),
                    *("-map", "0:v:0", "-map", "1:a:0", "-af", chain),
                    *("-c:v", "copy", "-c:a", fmt.audio_codec, "-b:a", "192k"),
                    *("-ar", str(rate), "-ac", str(fmt.audio_channels)),
                    *("-t", f"{duration:.6f}", "-movflags", "+faststart", "-f", "mp4", str(tmp)),
                ],
                timeout=timeout,
            )
    loudness = await measure_loudness(out, timeout=timeout)
    log.info(
        "media.soundtrack.mixed",
        out=str(out),
        voices=len(voices),
        music=music is not None,
        mix_lufs=measured.integrated,
        mix_true_peak=measured.true_peak,
        gain=gain,
        lufs=loudness.integrated,
        true_peak=loudness.true_peak,
    )
    if not silent and loudness.true_peak > MAX_TRUE_PEAK_DB + 0.05:
        raise FFmpegError(
            f"true peak {loudness.true_peak} dBTP over {MAX_TRUE_PEAK_DB}",
            returncode=0,
            stderr_tail="",
        )
    return loudness


# Audio encoders for a re-levelled file, by container.
_REENCODE = {
    ".mp4": ["-c:a", "aac", "-b:a", "192k"],
    ".webm": ["-c:a", "libopus", "-b:a", "96k"],
}


async def keep_true_peak(path: Path, *, timeout: float = 600.0) -> Loudness:
    """The loudness of an encoded file (an export); when a lossy re-encode pushed its true
    peak over :data:`MAX_TRUE_PEAK_DB`, its level is lowered just enough first (audio
    re-encoded, video copied)."""
    level = await measure_loudness(path, timeout=timeout)
    if level.true_peak <= MAX_TRUE_PEAK_DB or path.suffix not in _REENCODE:
        return level
    gain = round(MAX_TRUE_PEAK_DB - 0.3 - level.true_peak, 2)
    with atomic_output(path) as tmp:
        await run_ffmpeg(
            [
                *input_args(path),
                *("-map", "0:v:0", "-map", "0:a:0", "-c:v", "copy"),
                *("-af", f"volume={gain}dB", *_REENCODE[path.suffix]),
                *("-f", path.suffix.lstrip("."), str(tmp)),
            ],
            timeout=timeout,
        )
    log.info("media.audio.relevelled", path=str(path), gain=gain, true_peak=level.true_peak)
    return await measure_loudness(path, timeout=timeout)
