"""Per-operation context: the runtime, the caller, and one database session (closed by
`SessionExtension` when the operation ends)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info as StrawberryInfo

from reelforge.auth import Principal
from reelforge.errors import Unauthenticated
from reelforge.jobs.service import JobService
from reelforge.runtime import Runtime
from reelforge.storage.repository import AssetRepository


@dataclass
class Context:
    runtime: Runtime
    principal_or_error: Principal | Unauthenticated
    request: Any = None
    response: Any = None
    connection_params: dict[str, Any] | None = None  # websocket connection_init payload
    _session: AsyncSession | None = field(default=None, repr=False)

    @property
    def principal(self) -> Principal:
        if isinstance(self.principal_or_error, Unauthenticated):
            raise self.principal_or_error
        return self.principal_or_error

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self.runtime.sessions()
        return self._session

    @property
    def jobs(self) -> JobService:
        return JobService(self.runtime, self.session, self.principal)

    @property
    def assets(self) -> AssetRepository:
        return AssetRepository(self.session)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


Info = StrawberryInfo[Context, None]
