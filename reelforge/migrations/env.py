"""Alembic environment: async, batch mode on SQLite, and able to run on a connection that
the caller passes in `config.attributes["connection"]` (tests, `reelforge migrate`)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from reelforge import models  # noqa: F401  (registers the tables on Base.metadata)
from reelforge.config import get_settings
from reelforge.db import Base, create_engine

target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(engine: AsyncEngine, *, dispose: bool) -> None:
    async with engine.connect() as connection:
        await connection.run_sync(_configure)
        await connection.commit()
    if dispose:
        await engine.dispose()


def run() -> None:
    # A caller may pass a sync Connection or an AsyncEngine (pytest-alembic does).
    connection = context.config.attributes.get("connection")
    if isinstance(connection, AsyncEngine):
        asyncio.run(_run_async(connection, dispose=False))
        return
    if connection is not None:
        _configure(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_async(create_engine(url), dispose=True))


run()
