"""Per-request context, and what each GraphQL operation owns: one unit of work and one
set of DataLoaders.

The context lives as long as the request (HTTP) or the connection (websocket: every
operation on it shares the context), so each operation's state is an `Operation` set by
`UnitOfWorkExtension` for the operation's task. Sibling fields resolve concurrently and
an AsyncSession runs one statement at a time, so every use of the session goes through
`Context.db()` (or a DataLoader's batch), which holds the unit's lock. Nothing holds that
lock while waiting on a DataLoader. The session is committed or rolled back once, when the
operation ends; what must follow a write (cache invalidation, progress events, queued
tasks) runs after that commit.

A subscription lives for minutes, so it never holds a connection between events: its uses
of the database each commit at once, and its DataLoaders do not cache across events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from graphql import ExecutionResult, GraphQLError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from strawberry.dataloader import DataLoader
from strawberry.extensions import SchemaExtension
from strawberry.types import Info as StrawberryInfo
from strawberry.types.graphql import OperationType

from reelforge.admission import FairGate
from reelforge.auth import Principal
from reelforge.brands.service import BrandService
from reelforge.db import UnitOfWork, pool_exhausted
from reelforge.errors import Unauthenticated
from reelforge.jobs.service import JobService
from reelforge.models import Asset, Export, Job, JobEvent
from reelforge.runtime import Runtime
from reelforge.storage.repository import AssetRepository
from reelforge.webhooks.service import WebhookService


class Operation:
    """One GraphQL operation's unit of work and DataLoaders."""

    def __init__(self, context: Context, operation_type: Callable[[], OperationType]) -> None:
        self.context = context
        self._operation_type = operation_type
        self.unit = UnitOfWork(context.runtime.sessions)

    # The operation type is known once the document is parsed, before any resolver runs.

    @cached_property
    def streaming(self) -> bool:
        """A subscription: each use commits at once, and DataLoaders cache nothing."""
        return self._operation_type() is OperationType.SUBSCRIPTION

    @cached_property
    def read_only(self) -> bool:
        """A query: its transaction ends after each use, so the connection goes back to
        the pool while the answer is assembled (a mutation keeps its transaction to the
        end: all of it is committed or none)."""
        return self._operation_type() is OperationType.QUERY

    @cached_property
    def assets(self) -> DataLoader[str, Asset | None]:
        return DataLoader(self._assets, cache=not self.streaming)

    @cached_property
    def exports(self) -> DataLoader[str, list[Export]]:
        return DataLoader(self._exports, cache=not self.streaming)

    @cached_property
    def events(self) -> DataLoader[str, list[JobEvent]]:
        return DataLoader(self._events, cache=not self.streaming)

    @cached_property
    def jobs(self) -> DataLoader[str, Job | None]:
        return DataLoader(self._jobs, cache=not self.streaming)

    @asynccontextmanager
    async def db(self) -> AsyncIterator[UnitOfWork]:
        async with self.unit.lock:
            try:
                yield self.unit
                if self.streaming:
                    await self.unit.commit()
                elif self.read_only:
                    await self.unit.end_reads()
            except SQLAlchemyTimeoutError as exc:
                raise pool_exhausted(exc) from exc
            except BaseException:
                if self.streaming:
                    await self.unit.rollback()
                raise

    async def _assets(self, ids: list[str]) -> Sequence[Asset | None]:
        client_id = self.context.principal.client_id
        async with self.db() as unit:
            found = await AssetRepository(unit).get_many(ids, client_id=client_id)
        return [found.get(i) for i in ids]

    async def _exports(self, job_ids: list[str]) -> Sequence[list[Export]]:
        async with self.db() as unit:
            found = await self.context.runtime.jobs(unit).exports_of(job_ids)
        return [found[i] for i in job_ids]

    async def _events(self, job_ids: list[str]) -> Sequence[list[JobEvent]]:
        async with self.db() as unit:
            found = await self.context.runtime.jobs(unit).events_of(job_ids)
        return [found[i] for i in job_ids]

    async def _jobs(self, job_ids: list[str]) -> Sequence[Job | None]:
        client_id = self.context.principal.client_id
        async with self.db() as unit:
            found = await self.context.runtime.jobs(unit).get_many(job_ids, client_id=client_id)
        return [found.get(i) for i in job_ids]


_operation: ContextVar[Operation | None] = ContextVar("reelforge_operation", default=None)


@dataclass
class Context:
    runtime: Runtime
    principal_or_error: Principal | Unauthenticated
    admission: FairGate  # the app's: OPERATION_CONCURRENCY operations at once
    request: Any = None
    response: Any = None
    connection_params: dict[str, Any] | None = None  # websocket connection_init payload

    @property
    def principal(self) -> Principal:
        if isinstance(self.principal_or_error, Unauthenticated):
            raise self.principal_or_error
        return self.principal_or_error

    @property
    def operation(self) -> Operation:
        operation = _operation.get()
        if operation is None or operation.context is not self:
            raise RuntimeError("no GraphQL operation in progress (UnitOfWorkExtension missing?)")
        return operation

    @property
    def loaders(self) -> Operation:
        """The operation's DataLoaders: `.assets`, `.exports`, `.events`, `.jobs`."""
        return self.operation

    def db(self) -> Any:
        """`async with context.db() as unit:` the operation's unit of work, to itself."""
        return self.operation.db()

    @asynccontextmanager
    async def jobs(self) -> AsyncIterator[JobService]:
        """The job service on the operation's unit of work."""
        principal = self.principal
        async with self.db() as unit:
            yield JobService(self.runtime, unit, principal)

    @asynccontextmanager
    async def brands(self) -> AsyncIterator[BrandService]:
        """The brand kit service on the operation's unit of work."""
        principal = self.principal
        async with self.db() as unit:
            yield BrandService(unit, principal)

    @asynccontextmanager
    async def webhooks(self) -> AsyncIterator[WebhookService]:
        """The webhook service on the operation's unit of work."""
        principal = self.principal
        async with self.db() as unit:
            yield WebhookService(self.runtime, unit, principal)


Info = StrawberryInfo[Context, None]


class UnitOfWorkExtension(SchemaExtension):
    """Opens the operation's unit of work and DataLoaders; at the end commits the unit if
    the operation had no errors (then runs its after-commit hooks) and rolls it back
    otherwise, or when the operation is cancelled. Either way the connection goes back to
    the pool. (Every mutation field is non-null, so any error of a mutation already nulls
    the whole answer: rolling it back tells the client no lie.)"""

    async def on_operation(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        if not isinstance(context, Context):
            yield
            return
        operation = Operation(context, lambda: execution.operation_type)
        unit = operation.unit
        token = _operation.set(operation)
        try:
            yield
        except BaseException:
            await unit.end(commit=False)
            raise
        else:
            if getattr(execution.result, "errors", None):
                await unit.end(commit=False)
            else:
                try:
                    await unit.end(commit=True)
                except Exception as exc:  # the answer must not claim what was not saved
                    if isinstance(exc, SQLAlchemyTimeoutError):
                        exc = pool_exhausted(exc)
                    execution.result = ExecutionResult(
                        data=None, errors=[GraphQLError(str(exc), original_error=exc)]
                    )
        finally:
            _operation.reset(token)
