"""Title-card stills drawn with FFmpeg: the ``preview`` provider's scene images."""

from __future__ import annotations

import colorsys
import random
import textwrap
from pathlib import Path

import structlog

from reelforge.media.ffmpeg import atomic_output, capabilities, run_ffmpeg

log = structlog.get_logger(__name__)

_MAX_LINES = 5


def filter_value(value: str) -> str:
    """Quote ``value`` for use as one option value inside a ``-vf``/``-filter_complex`` graph.

    Two levels of escaping apply: the filter's own option parser, then the graph parser.
    """
    option_level = "'" + value.replace("'", "'\\''") + "'"
    graph_level = ""
    for ch in option_level:
        graph_level += "\\" + ch if ch in "\\'[],;" else ch
    return graph_level


def _hex(h: float, s: float, v: float) -> str:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return f"0x{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def _wrap(text: str, chars_per_line: int) -> str:
    lines = textwrap.wrap(" ".join(text.split()), width=max(8, chars_per_line)) or [""]
    if len(lines) > _MAX_LINES:
        lines = lines[:_MAX_LINES]
        lines[-1] = lines[-1][: max(1, chars_per_line - 1)].rstrip() + "…"
    return "\n".join(lines)


def still_filter(*, width: int, height: int, text: str, seed: int, with_text: bool) -> str:
    """The filtergraph (a source, no inputs) that draws the card; pure function of its args."""
    rng = random.Random(seed)
    hue = rng.random()
    c0 = _hex(hue, 0.55 + 0.3 * rng.random(), 0.35 + 0.25 * rng.random())
    c1 = _hex(
        hue + 0.12 + 0.25 * rng.random(), 0.5 + 0.4 * rng.random(), 0.55 + 0.35 * rng.random()
    )
    accent = _hex(hue + 0.5, 0.7, 0.95)
    kind = rng.choice(["linear", "radial"])
    x0, y0 = rng.randrange(width), rng.randrange(height)
    x1, y1 = rng.randrange(width), rng.randrange(height)
    if (x0, y0) == (x1, y1):
        x1 = (x0 + width // 2) % width
    steps = [
        f"gradients=s={width}x{height}:c0={c0}:c1={c1}:n=2:type={kind}"
        f":x0={x0}:y0={y0}:x1={x1}:y1={y1}:speed=0:seed={seed % 2**32}:d=1",
        "format=rgb24",
    ]
    # An accent bar: top or bottom, seeded, so neighbouring scenes look different even
    # when their colours are close.
    bar_h = max(2, height // 40)
    bar_y = height - 3 * bar_h if rng.random() < 0.5 else 2 * bar_h
    bar_w = width // 3 + rng.randrange(max(1, width // 3))
    bar_x = rng.randrange(max(1, width - bar_w))
    steps.append(f"drawbox=x={bar_x}:y={bar_y}:w={bar_w}:h={bar_h}:color={accent}@0.9:t=fill")
    if with_text and text.strip():
        size = max(8, round(min(width, height) * 0.075))
        wrapped = _wrap(text, int(width * 0.84 / (size * 0.55)))
        steps.append(
            "drawtext="
            + ":".join(
                [
                    f"text={filter_value(wrapped)}",
                    "expansion=none",  # the text is data: no %{...} expansion
                    f"fontsize={size}",
                    "fontcolor=white",
                    f"line_spacing={size // 4}",
                    "text_align=C",
                    "box=1",
                    "boxcolor=black@0.35",
                    f"boxborderw={size // 2}",
                    "shadowcolor=black@0.6",
                    f"shadowx={max(1, size // 24)}",
                    f"shadowy={max(1, size // 24)}",
                    "x=(w-text_w)/2",
                    "y=(h-text_h)/2",
                ]
            )
        )
    else:
        # No usable drawtext: a few seeded shapes instead, so scenes stay told apart.
        for _ in range(3):
            w = width // 8 + rng.randrange(max(1, width // 4))
            h = height // 8 + rng.randrange(max(1, height // 4))
            x, y = rng.randrange(max(1, width - w)), rng.randrange(max(1, height - h))
            colour = _hex(hue + rng.random(), 0.4, 0.95)
            steps.append(f"drawbox=x={x}:y={y}:w={w}:h={h}:color={colour}@0.55:t=fill")
    return ",".join(steps)


async def draw_still(
    out: Path, *, width: int, height: int, text: str, seed: int, timeout: float = 30.0
) -> None:
    """Draw a PNG title card: a seeded gradient with ``text`` centred on it.

    Deterministic for a given (size, text, seed). When this ffmpeg build cannot render
    text (no drawtext or no font), the card gets seeded shapes instead of the text.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"bad still size {width}x{height}")
    caps = await capabilities()
    graph = still_filter(width=width, height=height, text=text, seed=seed, with_text=caps.drawtext)
    with atomic_output(out) as tmp:
        await run_ffmpeg(
            [
                *("-f", "lavfi", "-i", graph),
                *("-frames:v", "1", "-update", "1", "-c:v", "png", "-f", "image2", str(tmp)),
            ],
            timeout=timeout,
        )
    log.debug("media.still.drawn", out=str(out), width=width, height=height, text=caps.drawtext)
