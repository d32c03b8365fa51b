"""The only module that reads and writes asset rows."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import String, cast, delete, or_, select

from reelforge.db import UnitOfWork
from reelforge.errors import NotFound
from reelforge.models import Asset, Job, JobStatus


class AssetRepository:
    def __init__(self, unit: UnitOfWork) -> None:
        self.unit = unit
        self.session = unit.session

    async def get(self, asset_id: str, *, client_id: str | None) -> Asset:
        """An asset by id, scoped to `client_id` (None only for workers): another client's
        asset is NOT_FOUND."""
        asset = await self.session.get(Asset, asset_id)
        if asset is None or (client_id is not None and asset.client_id != client_id):
            raise NotFound(f"asset {asset_id} not found", id=asset_id)
        return asset

    async def get_many(self, asset_ids: Sequence[str], *, client_id: str) -> dict[str, Asset]:
        if not asset_ids:
            return {}
        query = select(Asset).where(Asset.id.in_(asset_ids), Asset.client_id == client_id)
        return {a.id: a for a in (await self.session.execute(query)).scalars()}

    async def add(self, asset: Asset) -> Asset:
        self.session.add(asset)
        await self.session.flush()
        return asset

    async def live_jobs_using(self, asset: Asset) -> list[str]:
        """Ids of the client's jobs, not finished yet, whose brief or storyboard names the
        asset (asset ids are UUIDs: a text match on the JSON cannot hit anything else)."""
        terminal = [s.value for s in JobStatus if s.is_terminal]
        pattern = f"%{asset.id}%"
        query = select(Job.id).where(
            Job.client_id == asset.client_id,
            Job.status.not_in(terminal),
            or_(
                cast(Job.params, String).like(pattern),
                cast(Job.storyboard_data, String).like(pattern),
            ),
        )
        return list((await self.session.execute(query)).scalars())

    async def delete(self, asset: Asset) -> None:
        await self.session.execute(delete(Asset).where(Asset.id == asset.id))

    async def for_job(self, job_id: str) -> list[Asset]:
        query = select(Asset).where(Asset.job_id == job_id).order_by(Asset.created_at)
        return list((await self.session.execute(query)).scalars())
