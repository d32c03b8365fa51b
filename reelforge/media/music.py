"""A music bed synthesised by FFmpeg: the `preview` provider's free, offline soundtrack.

Not a loop: a seeded random walk through the key's chords, one bar at a time, with a soft
detuned pad, a bass that follows the chord and a plucked arpeggio whose notes (and rests)
are drawn afresh for every bar. Each bar is one ``aevalsrc`` whose phase continues from
absolute time, the bars are concatenated, then given a little room (echo), width (a
Haas delay on one side) and fades. Deterministic for a (mood, duration, seed).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import structlog

from reelforge.media.ffmpeg import atomic_output, run_ffmpeg

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Mood:
    bpm: int
    minor: bool
    pluck_density: float  # chance an eighth note sounds
    bass_pulse: bool  # bass struck on each beat, or held
    prompt: str  # how a music model is asked for it


MOODS: dict[str, Mood] = {
    "upbeat": Mood(112, False, 0.8, True, "upbeat, bright, modern pop instrumental"),
    "calm": Mood(72, False, 0.45, False, "calm, warm, gentle ambient instrumental"),
    "corporate": Mood(96, False, 0.65, True, "confident, clean corporate instrumental"),
    "dramatic": Mood(84, True, 0.55, False, "dramatic, cinematic, building instrumental"),
    "playful": Mood(124, False, 0.85, True, "playful, bouncy, quirky instrumental"),
}

_SAMPLE_RATE = 16000  # plenty for a soft bed under a voice; resampled when mixed
_ROOTS = (98.0, 110.0, 116.54, 130.81, 146.83)  # G2, A2, Bb2, C3, D3
_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)
# Where a chord (scale degree, 0-based) likes to go next.
_NEXT = {
    0: (3, 4, 5, 1),
    1: (4, 3, 6),
    2: (5, 3),
    3: (4, 0, 1, 5),
    4: (0, 5, 3),
    5: (3, 1, 4, 2),
    6: (0, 2),
}


def _freq(root: float, scale: tuple[int, ...], degree: int, octave: int) -> float:
    step = scale[degree % 7] + 12 * (degree // 7)
    return root * 2 ** (octave + step / 12)


def _bar_expression(
    rng: random.Random,
    *,
    root: float,
    scale: tuple[int, ...],
    chord: int,
    mood: Mood,
    bar: float,
    offset: float,
) -> str:
    tones = [chord, chord + 2, chord + 4]
    pad = "+".join(
        f"sin(2*PI*{_freq(root, scale, d, 1):.3f}*(t+{offset:.4f}))"
        f"+sin(2*PI*{_freq(root, scale, d, 1) * 1.004:.3f}*(t+{offset:.4f}))"
        for d in tones
    )
    fade = min(0.2, bar / 8)
    envelope = f"min(1,t/{fade:.3f})*min(1,({bar:.4f}-t)/{fade:.3f})"
    beat = bar / 4
    bass_f = _freq(root, scale, chord, 0)
    if mood.bass_pulse:
        bass_env = f"(1-exp(-40*mod(t,{beat:.4f})))*exp(-2.5*mod(t,{beat:.4f}))"
    else:
        bass_env = envelope
    eighth = bar / 8
    notes = []
    for _ in range(8):
        if rng.random() < mood.pluck_density:
            degree = rng.choice(tones) + rng.choice((7, 7, 14))
            notes.append(_freq(root, scale, degree, 1))
        else:
            notes.append(0.0)
    select = "0"
    for i in reversed(range(8)):
        select = f"if(eq(ld(0),{i}),{notes[i]:.3f},{select})"
    pluck = (
        f"st(0,floor(t/{eighth:.4f}));st(1,t-ld(0)*{eighth:.4f});"
        f"0.11*sin(2*PI*{select}*(t+{offset:.4f}))*(1-exp(-ld(1)*90))*exp(-ld(1)*7)"
    )
    return (
        f"0.045*({pad})*{envelope}"
        f"+0.16*sin(2*PI*{bass_f:.3f}*(t+{offset:.4f}))*{bass_env}"
        f"+({pluck})"
    )


def music_bed_graph(*, mood: str, duration: float, seed: int) -> str:
    """The filtergraph (sources only) of the bed; a pure function of its arguments."""
    if mood not in MOODS:
        raise ValueError(f"unknown mood {mood!r}; expected one of {list(MOODS)}")
    if duration <= 0:
        raise ValueError("duration must be positive")
    spec = MOODS[mood]
    rng = random.Random(f"{mood}:{seed}")
    root = rng.choice(_ROOTS)
    scale = _MINOR if spec.minor else _MAJOR
    bar = 4 * 60 / spec.bpm
    bars = int(duration // bar) + 1
    chord = 0
    sources = []
    for i in range(bars):
        expr = _bar_expression(
            rng, root=root, scale=scale, chord=chord, mood=spec, bar=bar, offset=i * bar
        )
        sources.append(f"aevalsrc=exprs='{expr}':s={_SAMPLE_RATE}:d={bar:.4f}[b{i}]")
        # Home every fourth bar now and then, otherwise wander: never a fixed loop.
        chord = 0 if i % 4 == 3 and rng.random() < 0.5 else rng.choice(_NEXT[chord])
    labels = "".join(f"[b{i}]" for i in range(bars))
    fade_out = min(2.0, duration / 4)
    return (
        ";".join(sources) + f";{labels}concat=n={bars}:v=0:a=1,"
        "lowpass=f=6000,aecho=0.8:0.5:110|190:0.22|0.12,asplit[l][r];"
        "[r]adelay=14[rd];[l][rd]join=inputs=2:channel_layout=stereo,"
        f"atrim=end={duration:.4f},"
        f"afade=t=in:d={min(1.0, duration / 4):.3f},"
        f"afade=t=out:st={duration - fade_out:.4f}:d={fade_out:.4f}[out]"
    )


async def synthesize_music_bed(
    out: Path, *, mood: str, duration: float, seed: int, timeout: float = 120.0
) -> None:
    """Write an AAC (m4a) music bed of ``duration`` seconds in ``mood``."""
    graph = music_bed_graph(mood=mood, duration=duration, seed=seed)
    with atomic_output(out) as tmp:
        await run_ffmpeg(
            [
                *("-filter_complex", graph, "-map", "[out]"),
                *("-c:a", "aac", "-b:a", "160k", "-ar", "48000", "-f", "mp4", str(tmp)),
            ],
            timeout=timeout,
        )
    log.debug("media.music.synthesized", out=str(out), mood=mood, duration=duration)
