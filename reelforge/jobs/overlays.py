"""What is drawn on each scene's clip in its normalise pass: captions, the headline, the
brand's logo and, on the last scene, the call-to-action end card, all inside the
platform's safe zone. Called from the render stage only."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from reelforge.brands.kit import DEFAULT_PRIMARY, DEFAULT_SECONDARY
from reelforge.jobs.params import JobParams
from reelforge.jobs.run import Run
from reelforge.jobs.scenes import Scene
from reelforge.jobs.soundtrack import captions_for
from reelforge.media.overlays import (
    FONT_FILE,
    SAFE_ZONES,
    EndCard,
    Headline,
    Logo,
    Overlay,
    SafeZone,
    end_card_seconds,
)


@dataclass(frozen=True)
class Art:
    """The brand's files, copied where FFmpeg can read them for the render's duration."""

    font: Path = FONT_FILE
    font_id: str | None = None
    logo: Path | None = None
    logo_id: str | None = None


async def open_art(run: Run, params: JobParams, files: contextlib.AsyncExitStack) -> Art:
    """Local copies of the logo and font of the job's brand (held open by `files`)."""
    brand = params.brand
    if brand is None:
        return Art()
    blobs = run.runtime.blobs
    art = Art()
    if brand.font_asset_id:
        font = await run.asset(brand.font_asset_id)
        path = await files.enter_async_context(blobs.local(font.storage_key))
        art = Art(font=path, font_id=font.id)
    if brand.logo_asset_id:
        logo = await run.asset(brand.logo_asset_id)
        path = await files.enter_async_context(blobs.local(logo.storage_key))
        art = Art(font=art.font, font_id=art.font_id, logo=path, logo_id=logo.id)
    return art


def safe_zone(params: JobParams) -> SafeZone | None:
    """The platform's safe zone; None: the one of the frame's aspect ratio."""
    return params.preset.safe_zone if params.preset else None


def drawn_zone(params: JobParams, scenes: list[Scene]) -> SafeZone | None:
    """The safe zone the job's video has things drawn in (what a cropping export must
    keep), or None when nothing was drawn on it."""
    drawn = (
        params.captions != "none"
        or params.brand is not None
        or params.cta is not None
        or any(s.headline for s in scenes)
    )
    if not drawn:
        return None
    return safe_zone(params) or SAFE_ZONES.get(params.aspect_ratio or "")


def scene_overlays(params: JobParams, scene: Scene, art: Art, *, last: bool) -> list[Overlay]:
    """In drawing order: captions, headline, logo, then (last scene) the end card."""
    brand = params.brand
    primary = brand.primary_color if brand else DEFAULT_PRIMARY
    secondary = brand.secondary_color if brand else DEFAULT_SECONDARY
    overlays: list[Overlay] = []
    captions = captions_for(params, scene)
    if captions is not None:
        overlays.append(captions)
    logo = None
    if art.logo is not None and art.logo_id is not None and brand is not None:
        logo = Logo(art.logo, art.logo_id, brand.logo_corner, brand.logo_opacity)
    if scene.headline:
        overlays.append(
            Headline(
                scene.headline,
                art.font,
                art.font_id,
                color=secondary,
                background=primary,
                under_logo=logo is not None and logo.corner.startswith("top"),
            )
        )
    if logo is not None:
        overlays.append(logo)
    cta = params.cta
    if last and cta:
        overlays.append(
            EndCard(
                end_card_seconds(scene.length),
                cta,
                art.font,
                art.font_id,
                background=primary,
                color=secondary,
                logo=art.logo,
                logo_id=art.logo_id,
            )
        )
    return overlays
