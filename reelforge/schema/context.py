"""Per-operation context: the runtime, the caller, and database sessions.

GraphQL resolves sibling fields concurrently and an AsyncSession allows one operation at a
time, so every top-level resolver gets a session of its own (closed by `SessionExtension`
when the operation ends), nested fields use short-lived ones, and assets are loaded in one
batch per operation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader
from strawberry.types import Info as StrawberryInfo

from reelforge.auth import Principal
from reelforge.errors import Unauthenticated
from reelforge.jobs.service import JobService
from reelforge.models import Asset
from reelforge.runtime import Runtime
from reelforge.storage.repository import AssetRepository
from reelforge.webhooks.service import WebhookService


@dataclass
class Context:
    runtime: Runtime
    principal_or_error: Principal | Unauthenticated
    request: Any = None
    response: Any = None
    connection_params: dict[str, Any] | None = None  # websocket connection_init payload
    _sessions: list[AsyncSession] = field(default_factory=list, repr=False)
    _asset_loader: DataLoader[str, Asset | None] | None = field(default=None, repr=False)

    @property
    def principal(self) -> Principal:
        if isinstance(self.principal_or_error, Unauthenticated):
            raise self.principal_or_error
        return self.principal_or_error

    def new_session(self) -> AsyncSession:
        session = self.runtime.sessions()
        self._sessions.append(session)
        return session

    @property
    def jobs(self) -> JobService:
        """The job service on a session of its own (one per resolver call)."""
        return JobService(self.runtime, self.new_session(), self.principal)

    @property
    def webhooks(self) -> WebhookService:
        """The webhook service on a session of its own (one per resolver call)."""
        return WebhookService(self.runtime, self.new_session(), self.principal)

    @property
    def assets(self) -> AssetRepository:
        return AssetRepository(self.new_session())

    async def load_asset(self, asset_id: str) -> Asset | None:
        """The caller's asset by id, or None; all loads of one operation share one query."""
        if self._asset_loader is None:
            self._asset_loader = DataLoader(load_fn=self._load_assets)
        return await self._asset_loader.load(asset_id)

    async def _load_assets(self, ids: list[str]) -> list[Asset | None]:
        async with self.runtime.session() as session:
            found = await AssetRepository(session).get_many(ids, client_id=self.principal.client_id)
        return [found.get(i) for i in ids]

    async def close(self) -> None:
        sessions, self._sessions = self._sessions, []
        for session in sessions:
            await session.close()


Info = StrawberryInfo[Context, None]
