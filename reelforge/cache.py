"""Read-through cache of job rows in Redis (TTL 30 s), invalidated by the repository on
every job write. A miss or any Redis error falls back to the database."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import structlog
from redis import asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy import DateTime

from reelforge.models import Job
from reelforge.observability.metrics import CACHE_REQUESTS

log = structlog.get_logger(__name__)

_DATETIME_COLUMNS = {c.key for c in Job.__table__.columns if isinstance(c.type, DateTime)}


def job_to_dict(job: Job) -> dict[str, Any]:
    return {c.key: getattr(job, c.key) for c in Job.__table__.columns}


def job_from_dict(data: dict[str, Any]) -> Job:
    """A transient Job (never added to a session) rebuilt from the cache."""
    values = {
        key: datetime.fromisoformat(value) if key in _DATETIME_COLUMNS and value else value
        for key, value in data.items()
    }
    return Job(**values)


class JobCache:
    def __init__(self, redis: aioredis.Redis, ttl: timedelta) -> None:
        self.redis = redis
        self.ttl = ttl

    @staticmethod
    def key(job_id: str) -> str:
        return f"reelforge:job:{job_id}"

    async def get(self, job_id: str) -> Job | None:
        try:
            raw = await self.redis.get(self.key(job_id))
        except (RedisError, OSError) as exc:
            CACHE_REQUESTS.labels(result="error").inc()
            log.warning("cache.get.failed", error=str(exc))
            return None
        if raw is None:
            CACHE_REQUESTS.labels(result="miss").inc()
            return None
        CACHE_REQUESTS.labels(result="hit").inc()
        return job_from_dict(json.loads(raw))

    async def set(self, job: Job) -> None:
        try:
            await self.redis.set(
                self.key(job.id), json.dumps(job_to_dict(job), default=_iso), ex=self.ttl
            )
        except (RedisError, OSError) as exc:
            log.warning("cache.set.failed", error=str(exc))

    async def invalidate(self, job_id: str) -> None:
        try:
            await self.redis.delete(self.key(job_id))
        except (RedisError, OSError) as exc:
            log.warning("cache.invalidate.failed", job_id=job_id, error=str(exc))


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)
