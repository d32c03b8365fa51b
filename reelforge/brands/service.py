"""The brand kit rules a client meets through the API: its kits (isolated per client, like
jobs), the assets they name (the client's own uploads: a png or jpg logo, a ttf or otf
font), and the copy a job keeps."""

from __future__ import annotations

import structlog

from reelforge.auth import Principal
from reelforge.brands.kit import Brand
from reelforge.brands.repository import BrandKitRepository
from reelforge.db import UnitOfWork
from reelforge.errors import BadUserInput, Conflict, NotFound
from reelforge.models import AssetKind, BrandKit
from reelforge.storage.repository import AssetRepository
from reelforge.storage.sniff import FONT_CONTENT_TYPES

log = structlog.get_logger(__name__)

MAX_KITS_PER_CLIENT = 50
LOGO_CONTENT_TYPES = ("image/png", "image/jpeg")


def brand_of(kit: BrandKit) -> Brand:
    return Brand(
        kit_id=kit.id,
        name=kit.name,
        logo_asset_id=kit.logo_asset_id,
        font_asset_id=kit.font_asset_id,
        primary_color=kit.primary_color,
        secondary_color=kit.secondary_color,
        call_to_action=kit.call_to_action,
        logo_corner=kit.logo_corner,
        logo_opacity=kit.logo_opacity,
    )


class BrandService:
    def __init__(self, unit: UnitOfWork, principal: Principal) -> None:
        """On the caller's unit of work (the GraphQL operation's): it commits, not us."""
        self.principal = principal
        self.repo = BrandKitRepository(unit)
        self.assets = AssetRepository(unit)

    async def list_kits(self) -> list[BrandKit]:
        return await self.repo.list(self.principal.client_id)

    async def brand(self, kit_id: str) -> Brand:
        """The copy of the client's kit a job keeps (BAD_USER_INPUT on brandKitId if none)."""
        try:
            kit = await self.repo.get(kit_id, client_id=self.principal.client_id)
        except NotFound:
            raise BadUserInput(f"brand kit {kit_id} not found", field="brandKitId") from None
        return brand_of(kit)

    async def save(self, kit_id: str | None, values: Brand) -> BrandKit:
        """Create a kit, or replace every value of the client's kit `kit_id`."""
        brand = values.validated()
        await self._check_asset(
            brand.logo_asset_id, "logoAssetId", LOGO_CONTENT_TYPES, "a png or jpg"
        )
        await self._check_asset(
            brand.font_asset_id, "fontAssetId", FONT_CONTENT_TYPES, "a ttf or otf font"
        )
        fields = {
            "name": brand.name,
            "logo_asset_id": brand.logo_asset_id,
            "font_asset_id": brand.font_asset_id,
            "primary_color": brand.primary_color,
            "secondary_color": brand.secondary_color,
            "call_to_action": brand.call_to_action,
            "logo_corner": brand.logo_corner,
            "logo_opacity": brand.logo_opacity,
        }
        if kit_id is None:
            if await self.repo.count(self.principal.client_id) >= MAX_KITS_PER_CLIENT:
                raise Conflict(f"a client has at most {MAX_KITS_PER_CLIENT} brand kits")
            kit = await self.repo.add(BrandKit(client_id=self.principal.client_id, **fields))
            log.info("brand_kit.created", brand_kit_id=kit.id)
            return kit
        kit = await self.repo.get(kit_id, client_id=self.principal.client_id)
        for name, value in fields.items():
            setattr(kit, name, value)
        kit = await self.repo.save(kit)
        log.info("brand_kit.updated", brand_kit_id=kit.id)
        return kit

    async def delete(self, kit_id: str) -> str:
        """Jobs made with the kit keep their copy of it: deleting never changes a job."""
        kit = await self.repo.get(kit_id, client_id=self.principal.client_id)
        await self.repo.delete(kit)
        log.info("brand_kit.deleted", brand_kit_id=kit_id)
        return kit_id

    async def _check_asset(
        self, asset_id: str | None, field: str, content_types: tuple[str, ...], what: str
    ) -> None:
        if asset_id is None:
            return
        found = await self.assets.get_many([asset_id], client_id=self.principal.client_id)
        asset = found.get(asset_id)
        if asset is None or asset.kind != AssetKind.UPLOAD.value:
            raise BadUserInput(f"asset {asset_id} not found", field=field)
        if asset.content_type not in content_types:
            raise BadUserInput(f"{field} must be an uploaded {what}", field=field)
