"""Brand kit queries and mutations, and the platform presets: parse input, call the
service, return a type."""

from __future__ import annotations

import strawberry

from reelforge.media.platforms import PRESETS
from reelforge.schema.brands import BrandKit, BrandKitInput
from reelforge.schema.context import Info
from reelforge.schema.types import PlatformPreset


def platforms(info: Info) -> list[PlatformPreset]:
    info.context.principal  # noqa: B018  (authenticated like everything else)
    return [PlatformPreset.from_preset(p) for p in PRESETS.values()]


async def brand_kits(info: Info) -> list[BrandKit]:
    async with info.context.brands() as brands:
        return [BrandKit.from_row(k) for k in await brands.list_kits()]


async def save_brand_kit(info: Info, input: BrandKitInput) -> BrandKit:
    async with info.context.brands() as brands:
        kit = await brands.save(str(input.id) if input.id else None, input.to_brand())
        return BrandKit.from_row(kit)


async def delete_brand_kit(info: Info, id: strawberry.ID) -> strawberry.ID:
    async with info.context.brands() as brands:
        return strawberry.ID(await brands.delete(str(id)))
