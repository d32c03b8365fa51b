"""Async engine, the unit of work and the declarative Base (with a naming convention, so Alembic
names constraints the same way on every dialect)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import MetaData, event
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from reelforge.errors import BUSY_RETRY_AFTER, ServiceUnavailable

log = structlog.get_logger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# SQLSTATEs that say "run the transaction again": serialization failure, deadlock.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
# asyncpg errors of a connection that broke under a statement (the driver's own state machine
# after a cancelled query, a closed connection).
RETRYABLE_DRIVER_ERRORS = frozenset(
    {"InternalClientError", "ConnectionDoesNotExistError", "InterfaceError"}
)


def is_transient(exc: BaseException) -> bool:
    """Whether a database error says "try again" rather than "this is wrong": a dropped or
    invalidated connection, a server going away, a serialization failure or deadlock, SQLite
    busy. A step that hit one is run again; it is never shown to a client."""
    for error in _chain(exc):
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, OperationalError | InterfaceError):
            return True
        if isinstance(error, DBAPIError):
            orig = error.orig
            state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
            if state in RETRYABLE_SQLSTATES:
                return True
        if type(error).__name__ in RETRYABLE_DRIVER_ERRORS or (
            getattr(error, "sqlstate", None) in RETRYABLE_SQLSTATES
        ):
            return True
    return False


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


@dataclass(frozen=True)
class PoolSettings:
    """How many connections a process may hold, and how long a unit waits for one."""

    size: int
    max_overflow: int
    timeout: float  # seconds


def create_engine(url: str, pool: PoolSettings | None = None, **kwargs: Any) -> AsyncEngine:
    """An engine tuned for the dialect: SQLite gets WAL, a busy timeout and foreign keys."""
    if pool is not None:
        kwargs.setdefault("pool_size", pool.size)
        kwargs.setdefault("max_overflow", pool.max_overflow)
        kwargs.setdefault("pool_timeout", pool.timeout)
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


Hook = Callable[[], Awaitable[None]]


def pool_exhausted(exc: SQLAlchemyTimeoutError) -> ServiceUnavailable:
    return ServiceUnavailable(
        "the database is busy; try again shortly", retryAfter=BUSY_RETRY_AFTER
    )


class UnitEnded(RuntimeError):
    """The unit of work was used after its operation ended."""


class UnitOfWork:
    """One session for one GraphQL operation or one worker step, committed or rolled back
    once by whoever opened it (`unit_of_work`). Repositories only flush. What must follow a
    write (cache invalidation, the progress event, the next task) is registered with
    `after_commit` and runs only once the commit succeeded; `on_rollback` undoes what lives
    outside the database (a blob written for a row that was never committed).

    The session is made on first use, so a unit that never touches the database never
    takes a pooled connection."""

    def __init__(self, maker: async_sessionmaker[AsyncSession]) -> None:
        self._maker = maker
        self._session: AsyncSession | None = None
        self._after_commit: list[Hook] = []
        self._on_rollback: list[Hook] = []
        self._keys: set[str] = set()
        self._ended = False
        # Sibling GraphQL fields resolve concurrently; an AsyncSession runs one statement
        # at a time, so whoever uses it holds this lock.
        self.lock = asyncio.Lock()

    @property
    def session(self) -> AsyncSession:
        if self._ended:
            # A DataLoader batch scheduled before its operation failed runs after it ended:
            # it must not open a session nobody will close.
            raise UnitEnded("the operation this unit of work belonged to has ended")
        if self._session is None:
            self._session = self._maker()
        return self._session

    @property
    def used(self) -> bool:
        return self._session is not None

    def after_commit(self, hook: Hook, *, key: str | None = None) -> None:
        """Run `hook` after the commit; with `key`, only the first hook of that key."""
        if key is not None:
            if key in self._keys:
                return
            self._keys.add(key)
        self._after_commit.append(hook)

    def on_rollback(self, hook: Hook) -> None:
        self._on_rollback.append(hook)

    async def end_reads(self) -> None:
        """End the session's current transaction and give its connection back, keeping the
        session, its objects and the hooks: for a unit that has only read so far (a
        GraphQL query between two batches of loads), so it holds a connection only while a
        statement runs, not while Python assembles the answer."""
        session = self._session
        if session is not None and session.in_transaction():
            await _shielded(session.commit())

    async def commit(self) -> None:
        hooks, self._after_commit = self._after_commit, []
        self._on_rollback = []
        if self._session is not None:
            try:
                await self._session.commit()
            except BaseException:
                await self._release(rollback=True)
                raise
        await self._release(rollback=False)
        for hook in hooks:
            try:
                await hook()
            except Exception as exc:  # committed: a lost notification must not undo it
                log.warning("unit.after_commit.failed", error=str(exc) or type(exc).__name__)

    async def end(self, *, commit: bool) -> None:
        """Commit or roll back for the last time, once no statement is running: a DataLoader
        batch runs in a task of its own, which a failing sibling field does not cancel, and
        may still hold the session."""
        async with self.lock:
            self._ended = True
            await (self.commit() if commit else self.rollback())

    async def rollback(self) -> None:
        undo, self._on_rollback = self._on_rollback, []
        self._after_commit = []
        await self._release(rollback=True)
        for hook in undo:
            try:
                await hook()
            except Exception as exc:
                log.warning("unit.on_rollback.failed", error=str(exc) or type(exc).__name__)

    async def _release(self, *, rollback: bool) -> None:
        """Give the connection back to the pool, even when the caller is being cancelled:
        the close runs in a task of its own that a cancellation cannot interrupt."""
        session, self._session = self._session, None
        if session is None:
            return

        async def close() -> None:
            try:
                if rollback:
                    await session.rollback()
            except Exception as exc:
                # A statement cancelled mid-flight (a sibling field failed, the client left)
                # can leave the connection unusable: drop it rather than fail the caller,
                # whose outcome (an error, a rollback) is already decided.
                log.warning("unit.rollback.failed", error=str(exc) or type(exc).__name__)
                await session.invalidate()
            finally:
                await session.close()

        await _shielded(close())


async def _shielded(coro: Coroutine[Any, Any, None]) -> None:
    """Run `coro` to its end even when the caller is cancelled, then pass the cancellation
    on. Cancelled again meanwhile (a gather cancelling its children, then the caller
    cancelling each of them), it still only waits: awaiting the clean-up's task directly
    would cancel it halfway and strand its connection, checked out and never closed."""
    task = asyncio.ensure_future(coro)
    cancelled: asyncio.CancelledError | None = None
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError as exc:
            cancelled = exc
    if cancelled is not None:
        raise cancelled
    task.result()  # the clean-up's own error, when nobody cancelled us


@asynccontextmanager
async def unit_of_work(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[UnitOfWork]:
    """Open a unit, commit it if the block succeeds, roll it back if it raises. A pool
    timeout is reported as SERVICE_UNAVAILABLE (retry later), never as an internal error."""
    unit = UnitOfWork(maker)
    try:
        yield unit
    except SQLAlchemyTimeoutError as exc:
        await unit.rollback()
        raise pool_exhausted(exc) from exc
    except BaseException:
        await unit.rollback()
        raise
    try:
        await unit.commit()
    except SQLAlchemyTimeoutError as exc:
        raise pool_exhausted(exc) from exc
