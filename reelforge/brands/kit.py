"""A brand kit's values and their rules, validated once. A job keeps a copy of the kit it
was made with (`Brand`), so changing or deleting the kit later never changes a job in
flight."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

from reelforge.errors import BadUserInput

Corner = Literal["top_left", "top_right", "bottom_left", "bottom_right"]
CORNERS: tuple[str, ...] = get_args(Corner)
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_NAME_CHARS = 100
MAX_CTA_CHARS = 60  # an end card is read in two seconds
MIN_OPACITY, MAX_OPACITY = 0.1, 1.0
DEFAULT_OPACITY = 0.85
DEFAULT_CORNER: Corner = "top_right"
DEFAULT_PRIMARY = "#111111"
DEFAULT_SECONDARY = "#ffffff"


def color(value: str | None, name: str) -> str | None:
    """A #rrggbb colour, lower-cased; BAD_USER_INPUT naming the field otherwise."""
    if value is None:
        return None
    value = value.strip()
    if not _COLOR.match(value):
        raise BadUserInput(f"{name} must be a colour written #rrggbb, not {value!r}", field=name)
    return value.lower()


def call_to_action(value: str | None, name: str) -> str | None:
    """A call to action: one line, 1–MAX_CTA_CHARS characters; empty means none."""
    if value is None:
        return None
    text = " ".join(value.split())
    if len(text) > MAX_CTA_CHARS:
        raise BadUserInput(f"{name} must be at most {MAX_CTA_CHARS} characters", field=name)
    return text or None


@dataclass(frozen=True)
class Brand:
    """What a job draws of its brand (a copy of the kit at createJob)."""

    kit_id: str | None = None
    name: str = ""
    logo_asset_id: str | None = None
    font_asset_id: str | None = None
    primary_color: str = DEFAULT_PRIMARY
    secondary_color: str = DEFAULT_SECONDARY
    call_to_action: str | None = None
    logo_corner: str = DEFAULT_CORNER
    logo_opacity: float = DEFAULT_OPACITY

    def validated(self) -> Brand:
        name = " ".join(self.name.split())
        if not 1 <= len(name) <= MAX_NAME_CHARS:
            raise BadUserInput(f"name must be 1–{MAX_NAME_CHARS} characters", field="name")
        if self.logo_corner not in CORNERS:
            raise BadUserInput(
                f"logoCorner must be one of {', '.join(CORNERS)}", field="logoCorner"
            )
        if not MIN_OPACITY <= self.logo_opacity <= MAX_OPACITY:
            raise BadUserInput(
                f"logoOpacity must be {MIN_OPACITY:g}–{MAX_OPACITY:g}", field="logoOpacity"
            )
        return Brand(
            kit_id=self.kit_id,
            name=name,
            logo_asset_id=self.logo_asset_id,
            font_asset_id=self.font_asset_id,
            primary_color=color(self.primary_color, "primaryColor") or DEFAULT_PRIMARY,
            secondary_color=color(self.secondary_color, "secondaryColor") or DEFAULT_SECONDARY,
            call_to_action=call_to_action(self.call_to_action, "callToAction"),
            logo_corner=self.logo_corner,
            logo_opacity=float(self.logo_opacity),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Brand:
        return cls(**data)
