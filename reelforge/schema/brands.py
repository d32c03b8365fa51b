"""GraphQL types and inputs of brand kits."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from reelforge.brands.kit import DEFAULT_OPACITY, DEFAULT_PRIMARY, DEFAULT_SECONDARY, Brand
from reelforge.models import BrandKit as BrandKitRow
from reelforge.models import as_utc
from reelforge.schema.context import Info
from reelforge.schema.types import Asset, load_asset


@strawberry.enum(description="Where the logo sits, inside the platform's safe zone")
class LogoCorner(Enum):
    TOP_LEFT = "top_left"
    TOP_RIGHT = "top_right"
    BOTTOM_LEFT = "bottom_left"
    BOTTOM_RIGHT = "bottom_right"


@strawberry.input(description="A brand kit; saved as a new kit, or over the kit `id`")
class BrandKitInput:
    name: str = strawberry.field(description="1–100 characters")
    id: strawberry.ID | None = strawberry.field(
        default=None, description="An existing kit to replace; none: a new kit"
    )
    logo_asset_id: strawberry.ID | None = strawberry.field(
        default=None, description="An uploaded png (transparency kept) or jpg"
    )
    primary_color: str = strawberry.field(
        default=DEFAULT_PRIMARY, description="#rrggbb: bands and the end card's background"
    )
    secondary_color: str = strawberry.field(
        default=DEFAULT_SECONDARY, description="#rrggbb: headline and call-to-action text"
    )
    font_asset_id: strawberry.ID | None = strawberry.field(
        default=None, description="An uploaded ttf or otf font for headline and end card"
    )
    call_to_action: str | None = strawberry.field(
        default=None, description="The end card's line (≤ 60 characters)"
    )
    logo_corner: LogoCorner = LogoCorner.TOP_RIGHT
    logo_opacity: float = strawberry.field(default=DEFAULT_OPACITY, description="0.1–1")

    def to_brand(self) -> Brand:
        return Brand(
            name=self.name,
            logo_asset_id=str(self.logo_asset_id) if self.logo_asset_id else None,
            font_asset_id=str(self.font_asset_id) if self.font_asset_id else None,
            primary_color=self.primary_color,
            secondary_color=self.secondary_color,
            call_to_action=self.call_to_action,
            logo_corner=self.logo_corner.value,
            logo_opacity=self.logo_opacity,
        )


@strawberry.type(description="A client's brand: logo, colours, font and call to action")
class BrandKit:
    id: strawberry.ID
    name: str
    primary_color: str
    secondary_color: str
    call_to_action: str | None
    logo_corner: LogoCorner
    logo_opacity: float
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[BrandKitRow]

    @classmethod
    def from_row(cls, row: BrandKitRow) -> BrandKit:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            primary_color=row.primary_color,
            secondary_color=row.secondary_color,
            call_to_action=row.call_to_action,
            logo_corner=LogoCorner(row.logo_corner),
            logo_opacity=row.logo_opacity,
            created_at=as_utc(row.created_at),
            updated_at=as_utc(row.updated_at),
            row=row,
        )

    @strawberry.field
    async def logo(self, info: Info) -> Asset | None:
        return await load_asset(info, self.row.logo_asset_id)

    @strawberry.field
    async def font(self, info: Info) -> Asset | None:
        return await load_asset(info, self.row.font_asset_id)
