"""The only module that reads and writes brand kits. It flushes and never commits: the
caller's unit of work does."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from reelforge.db import UnitOfWork
from reelforge.errors import NotFound
from reelforge.models import BrandKit


class BrandKitRepository:
    def __init__(self, unit: UnitOfWork) -> None:
        self.session = unit.session

    async def get(self, kit_id: str, *, client_id: str) -> BrandKit:
        """The client's kit; another client's is NOT_FOUND, as if it did not exist."""
        kit = await self.session.get(BrandKit, kit_id)
        if kit is None or kit.client_id != client_id:
            raise NotFound(f"brand kit {kit_id} not found", id=kit_id)
        return kit

    async def list(self, client_id: str) -> list[BrandKit]:
        query = (
            select(BrandKit)
            .where(BrandKit.client_id == client_id)
            .order_by(BrandKit.created_at, BrandKit.id)
        )
        return list((await self.session.execute(query)).scalars())

    async def count(self, client_id: str) -> int:
        query = select(func.count()).select_from(BrandKit).where(BrandKit.client_id == client_id)
        return int((await self.session.execute(query)).scalar_one())

    async def add(self, kit: BrandKit) -> BrandKit:
        self.session.add(kit)
        await self.session.flush()
        return kit

    async def save(self, kit: BrandKit) -> BrandKit:
        await self.session.flush()
        await self.session.refresh(kit)
        return kit

    async def delete(self, kit: BrandKit) -> None:
        await self.session.execute(delete(BrandKit).where(BrandKit.id == kit.id))
