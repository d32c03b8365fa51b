"""Everything a process connects to, built once at start-up and closed once at shutdown:
the API's lifespan and the worker's start-up both go through `Runtime.start`."""

from __future__ import annotations

import json
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
from reelforge.db import create_engine, create_sessionmaker, session_scope
from reelforge.events import ProgressBus, job_channel, publish
from reelforge.jobs.repository import JobChange, JobRepository
from reelforge.models import Job, as_utc_iso
from reelforge.providers import build_provider
from reelforge.providers.base import Provider
from reelforge.providers.webhooks import PredictionWakeups
from reelforge.ratelimit import RateLimiter
from reelforge.storage.blobs import BlobStore, open_blob_store
from reelforge.webhooks.outbox import Enqueue, WebhookOutbox

log = structlog.get_logger(__name__)

QUEUE_NAME = "reelforge:queue"


def serialize_task(data: dict[str, Any]) -> bytes:
    return json.dumps(data, default=str).encode()


def deserialize_task(raw: bytes) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(raw)
    return value


def progress_payload(job: Job, change: JobChange) -> dict[str, Any]:
    """The JSON every subscriber receives after a job write."""
    return {
        "jobId": job.id,
        "event": change.event,
        "status": job.status,
        "stage": job.stage,
        "progress": job.progress,
        "sceneIndex": change.scene_index,
        "message": change.message,
        "actualCost": float(job.actual_cost or 0.0),
        "estimatedCost": None if job.estimated_cost is None else float(job.estimated_cost),
        "updatedAt": as_utc_iso(job.updated_at),
    }


class RuntimeNotifier:
    def __init__(
        self, cache: JobCache, redis: aioredis.Redis, outbox: WebhookOutbox, enqueue: Enqueue
    ) -> None:
        self.cache = cache
        self.redis = redis
        self.outbox = outbox
        self.enqueue = enqueue

    async def status_reached(self, session: AsyncSession, job: Job) -> None:
        """Before the commit of a status change: record its webhook deliveries."""
        await self.outbox.job_reached(session, job)

    async def job_changed(self, job: Job, change: JobChange) -> None:
        await self.cache.invalidate(job.id)
        await publish(self.redis, job_channel(job.id), progress_payload(job, change))
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
        engine = create_engine(settings.resolved_database_url)
        redis = aioredis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
        queue = await create_pool(
            RedisSettings.from_dsn(redis_url),
            job_serializer=serialize_task,
            job_deserializer=deserialize_task,
            default_queue_name=QUEUE_NAME,
        )
        bus = ProgressBus(redis_url)
        await bus.connect()
        http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=10.0))
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
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with session_scope(self.sessions) as session:
            yield session

    def jobs(self, session: AsyncSession) -> JobRepository:
        return JobRepository(
            session,
            RuntimeNotifier(self.cache, self.redis, WebhookOutbox(self.settings), self.enqueue),
        )

    async def enqueue(
        self, task: str, *args: Any, key: str, defer_until: datetime | None = None
    ) -> None:
        """Queue a task once: arq refuses a second task with the same id while one is queued
        or running, so double clicks and retries never run a stage twice; a task held by a
        worker that died is taken back and run again."""
        await self.ensure_queued(task, *args, key=key, defer_until=defer_until)

    async def ensure_queued(
        self,
        task: str,
        *args: Any,
        key: str,
        defer_until: datetime | None = None,
        queue_if_missing: bool = True,
    ) -> str:
        """`enqueue`, saying what happened (see `jobs.recovery.ensure_queued`)."""
        from reelforge.jobs.recovery import ensure_queued  # recovery builds on this module

        async def enqueue() -> bool:
            job = await self.queue.enqueue_job(
                task, *args, _job_id=key, _queue_name=QUEUE_NAME, _defer_until=defer_until
            )
            log.info("queue.enqueued", task=task, key=key, duplicate=job is None)
            return job is not None

        grace = self.settings.worker_heartbeat_ttl
        return await ensure_queued(
            self.queue, key, enqueue, grace=grace, queue_if_missing=queue_if_missing
        )
