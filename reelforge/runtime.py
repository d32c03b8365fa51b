"""Everything a process connects to, built once at start-up and closed once at shutdown:
the API's lifespan and the worker's start-up both go through `Runtime.start`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import structlog
from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from redis import asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from reelforge.cache import JobCache
from reelforge.config import Settings
from reelforge.db import UnitOfWork, create_engine, create_sessionmaker, unit_of_work
from reelforge.events import ProgressBus, job_channel, publish
from reelforge.jobs.queue import QUEUE_NAME, deserialize_task, enqueue_task, serialize_task
from reelforge.jobs.repository import JobRepository
from reelforge.models import Job
from reelforge.providers import build_provider
from reelforge.providers.base import Provider
from reelforge.providers.webhooks import PredictionWakeups
from reelforge.ratelimit import RateLimiter
from reelforge.storage.blobs import BlobStore, open_blob_store
from reelforge.tls import client_tls_context
from reelforge.webhooks.outbox import Enqueue, WebhookOutbox

log = structlog.get_logger(__name__)


class RuntimeNotifier:
    """Around a job write: before its commit, the webhook deliveries of a new status are
    written in the same unit; after it, the cache entry goes, the event goes out and the
    deliveries are queued."""

    def __init__(
        self, cache: JobCache, redis: aioredis.Redis, outbox: WebhookOutbox, enqueue: Enqueue
    ) -> None:
        self.cache = cache
        self.redis = redis
        self.outbox = outbox
        self.enqueue = enqueue

    async def status_reached(self, unit: UnitOfWork, job: Job) -> None:
        """Before the commit of a status change: record its webhook deliveries."""
        await self.outbox.job_reached(unit, job)

    async def invalidate(self, job_id: str) -> None:
        await self.cache.invalidate(job_id)

    async def publish(self, payload: dict[str, Any]) -> None:
        await publish(self.redis, job_channel(str(payload["jobId"])), payload)

    async def committed(self) -> None:
        await self.outbox.send(self.enqueue)


@dataclass
class Runtime:
    settings: Settings
    redis_url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: aioredis.Redis
    queue: ArqRedis
    bus: ProgressBus
    cache: JobCache
    blobs: BlobStore
    http: httpx.AsyncClient
    wakeups: PredictionWakeups
    provider: Provider
    limiter: RateLimiter

    @classmethod
    async def start(
        cls, settings: Settings, *, redis_url: str, provider: Provider | None = None
    ) -> Runtime:
        engine = create_engine(settings.resolved_database_url, settings.database_pool)
        redis = aioredis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
        queue = await create_pool(
            RedisSettings.from_dsn(redis_url),
            job_serializer=serialize_task,
            job_deserializer=deserialize_task,
            default_queue_name=QUEUE_NAME,
        )
        bus = ProgressBus(
            redis_url,
            health_check_interval=settings.progress_health_check_interval.total_seconds(),
        )
        await bus.connect()
        http = httpx.AsyncClient(
            timeout=httpx.Timeout(30.0, connect=10.0), verify=client_tls_context()
        )
        blobs = open_blob_store(settings)
        blobs.start()
        wakeups = PredictionWakeups()
        runtime = cls(
            settings=settings,
            redis_url=redis_url,
            engine=engine,
            sessions=create_sessionmaker(engine),
            redis=redis,
            queue=queue,
            bus=bus,
            cache=JobCache(redis, settings.cache_ttl),
            blobs=blobs,
            http=http,
            wakeups=wakeups,
            provider=provider or build_provider(settings, http=http, wakeups=wakeups),
            limiter=RateLimiter.for_redis_url(redis_url),
        )
        log.info("runtime.started", provider=runtime.provider.name, storage=blobs.url)
        return runtime

    async def aclose(self) -> None:
        await self.limiter.aclose()
        await self.provider.aclose()
        await self.http.aclose()
        await self.bus.disconnect()
        await self.queue.aclose()
        await self.redis.aclose()
        await self.engine.dispose()
        await self.blobs.aclose()

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[UnitOfWork]:
        """A unit of work of its own (a worker step, a REST request, a subscription's read):
        committed when the block ends, rolled back if it raises."""
        async with unit_of_work(self.sessions) as unit:
            yield unit

    def jobs(self, unit: UnitOfWork) -> JobRepository:
        notifier = RuntimeNotifier(
            self.cache, self.redis, WebhookOutbox(self.settings), self.enqueue
        )
        return JobRepository(unit, notifier)

    async def enqueue(
        self, task: str, *args: Any, key: str, defer_until: datetime | None = None
    ) -> None:
        """Queue any task once under `key` (the job stages go through `jobs/queue.py`, which
        names them; outgoing webhook deliveries come here). A task held by a worker that died
        is taken back and run again."""
        await enqueue_task(self.queue, task, *args, key=key, defer_until=defer_until)
