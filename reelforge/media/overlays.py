"""Things drawn on the frame during a clip's normalise pass, inside the frame's safe zone.

Everything drawn on a clip (captions, a headline, the brand's logo, the call-to-action end
card) is an :class:`Overlay`: given the clip's format, its safe zone and a scratch folder,
it returns the filter that draws it. :func:`reelforge.media.clips.normalise_clip` chains
them after sizing and colour conversion, in the one re-encode each clip gets anyway, so
the stitch stays a stream copy.

Fonts: DejaVu Sans Bold ships inside the package (``media/fonts``, Bitstream Vera licence,
see ``LICENSE-DejaVu.txt``), so text renders the same on a fresh machine without apt or
fontconfig set-up; ``CAPTION_FONTS_DIR`` is not needed.
"""

from __future__ import annotations

import hashlib
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from reelforge.media.formats import ClipFormat

FONTS_DIR = Path(__file__).parent / "fonts"
FONT_FILE = FONTS_DIR / "DejaVuSans-Bold.ttf"
FONT_NAME = "DejaVu Sans"  # the family name libass matches against FONTS_DIR


@dataclass(frozen=True)
class SafeZone:
    """Fractions of the frame to keep clear on each side (platform UI, rounded corners)."""

    top: float
    bottom: float
    left: float
    right: float

    def margins(self, width: int, height: int) -> tuple[int, int, int, int]:
        """(left, right, top, bottom) in pixels."""
        return (
            round(width * self.left),
            round(width * self.right),
            round(height * self.top),
            round(height * self.bottom),
        )

    def key(self) -> str:
        return f"{self.top:g}-{self.bottom:g}-{self.left:g}-{self.right:g}"


# By aspect ratio. Vertical video loses its top (account name, sound) and a large bottom
# band (caption, buttons) to the app's UI; Meta's Stories/Reels guidance keeps 14 % top and
# 20-35 % bottom clear. Landscape and square keep a title-safe margin.
SAFE_ZONES: dict[str, SafeZone] = {
    "9:16": SafeZone(top=0.14, bottom=0.22, left=0.06, right=0.06),
    "4:5": SafeZone(top=0.08, bottom=0.12, left=0.06, right=0.06),
    "1:1": SafeZone(top=0.06, bottom=0.10, left=0.06, right=0.06),
    "16:9": SafeZone(top=0.06, bottom=0.09, left=0.06, right=0.06),
}


def safe_zone_for(width: int, height: int) -> SafeZone:
    """The safe zone of the aspect ratio nearest to ``width``x``height``."""
    ratio = width / height

    def distance(aspect: str) -> float:
        a, b = (int(x) for x in aspect.split(":"))
        return abs(a / b - ratio)

    return SAFE_ZONES[min(SAFE_ZONES, key=distance)]


@dataclass(frozen=True)
class Frame:
    """What an overlay needs to know about the clip it is drawn on."""

    fmt: ClipFormat
    safe_zone: SafeZone
    duration: float  # seconds
    work_dir: Path  # scratch files (an ASS script) live here during the ffmpeg run
    # Pictures an overlay draws (a logo): each becomes one more input of the ffmpeg run.
    inputs: list[Path] = field(default_factory=list)

    def picture(self, path: Path) -> str:
        """The stream label of the picture at ``path``, added as an input of this run (once
        per use: a filtergraph reads each input label once)."""
        self.inputs.append(path)
        return f"[{len(self.inputs)}:v]"

    def margins(self) -> tuple[int, int, int, int]:
        """The safe zone's (left, right, top, bottom) margins in pixels."""
        return self.safe_zone.margins(self.fmt.width, self.fmt.height)

    @property
    def short_side(self) -> int:
        return min(self.fmt.width, self.fmt.height)


class Overlay(Protocol):
    def filter(self, frame: Frame) -> str:
        """What draws this overlay, appended to the clip's filter chain after a comma: a
        chain of filters, or (to bring in a picture from ``frame.picture``) chains joined
        by ``;`` whose last one continues the clip's chain. Labels it makes are its own."""
        ...

    def key(self) -> str:
        """A stable digest of what is drawn: part of the normalised clip's cache key."""
        ...


# Sizes from the frame's short side, so a 480p preview and a 1080p render look alike.
LOGO_SCALE = 0.16  # the watermark fits a square this big
END_CARD_LOGO_SCALE = 0.30
HEADLINE_SCALE = 0.065  # text height
CTA_SCALE = 0.085
_CHAR_WIDTH_EM = 0.62  # DejaVu Sans Bold's average advance; used to size lines
# The end card: the last seconds of the video, within this range of the last scene.
END_CARD_SECONDS = (1.5, 3.0)
END_CARD_SHARE = 0.5  # of the last scene, at most


def end_card_seconds(scene_seconds: float) -> float:
    """How long the end card shows at the end of a last scene of ``scene_seconds``."""
    low, high = END_CARD_SECONDS
    return min(scene_seconds, max(low, min(high, scene_seconds * END_CARD_SHARE)))


def ffmpeg_color(hex_color: str, alpha: float = 1.0) -> str:
    """'#rrggbb' as FFmpeg writes a colour (0xRRGGBB@alpha)."""
    return f"0x{hex_color.lstrip('#').upper()}@{alpha:g}"


def _digest(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _quoted(path: Path) -> str:
    from reelforge.media.stills import filter_value  # stills imports nothing of ours

    return filter_value(str(path.absolute()))


def _fitted_text(text: str, width: int, size: int, *, max_lines: int) -> tuple[str, int]:
    """``text`` wrapped to ``width`` pixels at ``size`` px, shrunk until it takes at most
    ``max_lines`` lines: (the lines joined by newlines, the font size)."""
    while True:
        per_line = max(6, int(width / (size * _CHAR_WIDTH_EM)))
        lines = textwrap.wrap(" ".join(text.split()), width=per_line) or [""]
        if len(lines) <= max_lines or size <= 10:
            return "\n".join(lines[:max_lines]), size
        size = max(10, int(size * 0.9))


def _drawtext(
    frame: Frame, name: str, text: str, font: Path, size: int, color: str, **options: str
) -> str:
    path = frame.work_dir / f"{name}-{_digest(text)}.txt"
    path.write_text(text, encoding="utf-8")
    args = {
        "fontfile": _quoted(font),
        "textfile": _quoted(path),
        "expansion": "none",
        "fontsize": str(size),
        "fontcolor": color,
        **options,
    }
    return "drawtext=" + ":".join(f"{k}={v}" for k, v in args.items())


@dataclass(frozen=True)
class Logo:
    """The brand's logo as a watermark in a corner of the safe zone, on every frame."""

    path: Path
    asset_id: str  # what the key names (the path is a temporary copy)
    corner: str  # top_left | top_right | bottom_left | bottom_right
    opacity: float

    def key(self) -> str:
        return _digest("logo", self.asset_id, self.corner, self.opacity)

    def box(self, frame: Frame) -> int:
        return max(8, round(frame.short_side * LOGO_SCALE))

    def filter(self, frame: Frame) -> str:
        left, right, top, bottom = frame.margins()
        box = self.box(frame)
        x = f"main_w-overlay_w-{right}" if self.corner.endswith("right") else str(left)
        y = f"main_h-overlay_h-{bottom}" if self.corner.startswith("bottom") else str(top)
        tag = self.key()
        return (
            f"null[lb{tag}];{frame.picture(self.path)}"
            f"scale={box}:{box}:force_original_aspect_ratio=decrease,format=rgba,"
            f"colorchannelmixer=aa={self.opacity:g}[lg{tag}];"
            f"[lb{tag}][lg{tag}]overlay=x={x}:y={y}:eof_action=repeat"
        )


@dataclass(frozen=True)
class Headline:
    """One line (or two) at the top of the safe zone, on a band of the brand's colour;
    below the logo when the logo is in a top corner."""

    text: str
    font: Path
    font_id: str | None  # what the key names
    color: str  # '#rrggbb' text
    background: str  # '#rrggbb' band
    under_logo: bool = False  # a logo in a top corner: the headline goes below it

    def key(self) -> str:
        return _digest(
            "headline", self.text, self.font_id, self.color, self.background, self.under_logo
        )

    def filter(self, frame: Frame) -> str:
        left, right, top, _bottom = frame.margins()
        base = max(10, round(frame.short_side * HEADLINE_SCALE))
        pad = max(4, base // 4)
        below = round(frame.short_side * LOGO_SCALE) + pad if self.under_logo else 0
        text, size = _fitted_text(
            self.text, frame.fmt.width - left - right - 2 * pad, base, max_lines=2
        )
        return _drawtext(
            frame,
            "headline",
            text,
            self.font,
            size,
            ffmpeg_color(self.color),
            x="(w-text_w)/2",
            y=str(top + below + pad),
            box="1",
            boxcolor=ffmpeg_color(self.background, 0.85),
            boxborderw=str(pad),
            line_spacing=str(pad // 2),
        )


@dataclass(frozen=True)
class EndCard:
    """The last ``seconds`` of the clip: the brand's colour over the whole frame, the logo
    and the call to action in the safe zone. Drawn last, over everything else."""

    seconds: float
    call_to_action: str | None
    font: Path
    font_id: str | None
    background: str  # '#rrggbb'
    color: str  # '#rrggbb' text
    logo: Path | None = None
    logo_id: str | None = None

    def key(self) -> str:
        return _digest(
            "end",
            self.seconds,
            self.call_to_action,
            self.font_id,
            self.background,
            self.color,
            self.logo_id,
        )

    def filter(self, frame: Frame) -> str:
        start = max(0.0, frame.duration - self.seconds)
        on = f"'gte(t,{start:.3f})'"
        left, right, top, bottom = frame.margins()
        safe_w = frame.fmt.width - left - right
        safe_h = frame.fmt.height - top - bottom
        centre_y = top + safe_h // 2
        parts = [
            f"drawbox=x=0:y=0:w=iw:h=ih:color={ffmpeg_color(self.background)}:t=fill:enable={on}"
        ]
        tag = self.key()
        if self.logo is not None:
            box = min(safe_w, safe_h // 2, round(frame.short_side * END_CARD_LOGO_SCALE))
            logo_y = centre_y - box if self.call_to_action else centre_y - box // 2
            parts.append(
                f"null[eb{tag}];{frame.picture(self.logo)}"
                f"scale={box}:{box}:force_original_aspect_ratio=decrease,format=rgba[el{tag}];"
                f"[eb{tag}][el{tag}]overlay=x=(main_w-overlay_w)/2:y={logo_y}"
                f":eof_action=repeat:enable={on}"
            )
        if self.call_to_action:
            base = max(12, round(frame.short_side * CTA_SCALE))
            text, size = _fitted_text(self.call_to_action, safe_w, base, max_lines=3)
            y = f"{centre_y + size // 2}" if self.logo is not None else "(h-text_h)/2"
            parts.append(
                _drawtext(
                    frame,
                    "cta",
                    text,
                    self.font,
                    size,
                    ffmpeg_color(self.color),
                    x="(w-text_w)/2",
                    y=y,
                    line_spacing=str(size // 4),
                    enable=on,
                )
            )
        return ",".join(parts)
