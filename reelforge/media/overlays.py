"""Things drawn on the frame during a clip's normalise pass, inside the frame's safe zone.

Everything drawn on a clip (captions today; a headline, a logo, a call-to-action card
later) is an :class:`Overlay`: given the clip's format, its safe zone and a scratch folder,
it returns the filter that draws it. :func:`reelforge.media.clips.normalise_clip` chains
them after sizing and colour conversion, in the one re-encode each clip gets anyway, so
the stitch stays a stream copy.

Fonts: DejaVu Sans Bold ships inside the package (``media/fonts``, Bitstream Vera licence,
see ``LICENSE-DejaVu.txt``), so text renders the same on a fresh machine without apt or
fontconfig set-up; ``CAPTION_FONTS_DIR`` is not needed.
"""

from __future__ import annotations

from dataclasses import dataclass
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


class Overlay(Protocol):
    def filter(self, frame: Frame) -> str:
        """A filter chain (no labels) that draws this overlay on every frame of the clip."""
        ...

    def key(self) -> str:
        """A stable digest of what is drawn: part of the normalised clip's cache key."""
        ...
