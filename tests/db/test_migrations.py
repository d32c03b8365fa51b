"""Migrations: pytest-alembic's suite on SQLite (and PostgreSQL under CI), plus the
behaviours DESIGN.md promises: idempotent migrate, updated_at trigger, lossless 0002 down/up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from pytest_alembic import create_alembic_fixture
from pytest_alembic.tests import (  # noqa: F401  (collected as tests)
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from reelforge.startup import alembic_config as make_alembic_config
from tests.conftest import CI

alembic_runner = create_alembic_fixture()


@pytest.fixture(scope="module")
def migration_database(postgres_url: str | None) -> Iterator[str | None]:
    """A PostgreSQL database of this module's own (the shared test database is already
    migrated); each test empties it again, far cheaper than a CREATE DATABASE per test."""
    if not postgres_url:
        yield None
        return
    import uuid

    from tests.conftest import _pg_admin

    name = f"reelforge_mig_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f"CREATE DATABASE {name}"))
    yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture(params=["sqlite", "postgresql"] if CI else ["sqlite"])
def migration_url(
    request: pytest.FixtureRequest, tmp_path: Path, migration_database: str | None
) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
    assert migration_database
    # Everything a migration makes (tables, the trigger function, alembic_version) lives
    # in the public schema: a new one is an empty database again.
    _execute(
        migration_database,
        "DROP SCHEMA public CASCADE",
        "CREATE SCHEMA public",
        "GRANT ALL ON SCHEMA public TO public",
    )
    assert _rows(
        migration_database,
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')",
    ) == [(0,)]
    return migration_database


@pytest.fixture
def alembic_engine(migration_url: str) -> Any:
    # NullPool: every migration step runs in its own event loop (asyncio.run in env.py).
    return create_async_engine(migration_url, poolclass=NullPool)


@pytest.fixture
def alembic_config() -> dict[str, Any]:
    return {"script_location": str(Path("reelforge/migrations").resolve())}


def _rows(url: str, query: str) -> list[Any]:
    async def run() -> list[Any]:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            rows = list((await conn.execute(sa.text(query))).all())
        await engine.dispose()
        return rows

    return asyncio.run(run())


def _execute(url: str, *statements: str) -> None:
    async def run() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(sa.text(statement))
        await engine.dispose()

    asyncio.run(run())


INSERT_0001_JOB = (
    "INSERT INTO jobs (id, client_id, user_id, campaign_id, prompt, params, status, stage, "
    "storyboard_version, approved_at, approved_by, cancel_requested) VALUES "
    "('j1', 'acme', 'alice', 'summer', 'Lemonade ad', '{\"scene_count\": 3}', 'completed', "
    "'done', 2, CURRENT_TIMESTAMP, 'bob', false)"
)


def test_migrate_twice_is_a_no_op(migration_url: str) -> None:
    config = make_alembic_config(migration_url)
    command.upgrade(config, "head")
    schema_before = _rows(migration_url, "SELECT version_num FROM alembic_version")
    command.upgrade(config, "head")
    assert _rows(migration_url, "SELECT version_num FROM alembic_version") == schema_before
    head = ScriptDirectory.from_config(config).get_current_head()
    assert schema_before == [(head,)]


def test_update_bumps_updated_at(migration_url: str) -> None:
    command.upgrade(make_alembic_config(migration_url), "head")
    _execute(migration_url, INSERT_0001_JOB)
    (before,) = _rows(migration_url, "SELECT updated_at FROM jobs WHERE id = 'j1'")[0]
    time.sleep(0.05)
    _execute(migration_url, "UPDATE jobs SET progress = 50 WHERE id = 'j1'")
    (after,) = _rows(migration_url, "SELECT updated_at FROM jobs WHERE id = 'j1'")[0]
    assert str(after) > str(before)


def test_downgrade_0002_keeps_0001_data_and_upgrades_again(migration_url: str) -> None:
    config = make_alembic_config(migration_url)
    command.upgrade(config, "0001_initial")
    _execute(migration_url, INSERT_0001_JOB)
    command.upgrade(config, "head")
    row = _rows(migration_url, "SELECT approved, progress, actual_cost FROM jobs WHERE id = 'j1'")[
        0
    ]
    assert bool(row[0]) is True  # approved backfilled from approved_at
    assert row[1] == 0
    command.downgrade(config, "0001_initial")
    kept = _rows(
        migration_url,
        "SELECT client_id, user_id, campaign_id, prompt, status, stage, storyboard_version, approved_by FROM jobs",
    )
    assert kept == [("acme", "alice", "summer", "Lemonade ad", "completed", "done", 2, "bob")]
    command.upgrade(config, "head")
    assert _rows(migration_url, "SELECT count(*) FROM jobs")[0][0] == 1
