"""Rate limiting with the `limits` library: a moving window per key, kept in Redis (shared by
every API process) or in memory (unit tests). A limit is a string such as ``"10/minute"``."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import structlog
from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from reelforge.errors import RateLimited

log = structlog.get_logger(__name__)

KEY_PREFIX = "reelforge:ratelimit"
# The per-user limits' names in their keys (with client id and user id).
OPERATION_LIMIT_KEY = "operation"
CREATE_JOB_LIMIT_KEY = "create_job"


class _HasRedisUrl(Protocol):
    @property
    def redis_url(self) -> str: ...


def async_storage_uri(redis_url: str) -> str:
    """The `limits` URI for a redis-py URL: ``redis://h:p/0`` → ``async+redis://h:p/0``."""
    scheme, sep, rest = redis_url.partition("://")
    if not sep:
        raise ValueError(f"not a Redis URL: {redis_url!r}")
    if scheme == "unix":
        return f"async+redis+unix://{rest}"
    if scheme in {"redis", "rediss", "valkey", "valkeys", "redis+unix", "valkey+unix"}:
        return f"async+{scheme}://{rest}"
    raise ValueError(f"not a Redis URL: {redis_url!r}")


# The schemes served by redis-py (`async+valkey...` would need the valkey client).
_REDISPY_SCHEMES = ("async+redis", "async+rediss", "async+redis+unix")


class _RedisPyStorage(RedisStorage):
    """`limits`' Redis storage, on redis-py only. Its `dependencies` imports every client it
    supports (coredis and valkey too, installed with `limits`) when the storage is made, used
    or not: ~0.35 s of CPU at each start of the API or of a worker. No STORAGE_SCHEME of its
    own, so `storage_from_string` still maps every scheme as before."""

    DEPENDENCIES = {"redis": RedisStorage.DEPENDENCIES["redis"]}


@lru_cache(maxsize=64)
def _parse(limit: str) -> RateLimitItem:
    item: RateLimitItem = parse(limit)
    return item


def validate_limit(limit: str) -> str:
    """`limit` if the `limits` library reads it (``"600/minute"``), else ValueError."""
    try:
        _parse(limit)
    except ValueError as exc:
        raise ValueError(f"not a rate limit: {limit!r} (write e.g. '600/minute')") from exc
    return limit


@dataclass(frozen=True)
class LimitStatus:
    limit: str
    remaining: int
    reset_in_seconds: int


class RateLimiter:
    """``await limiter.hit("10/minute", "upload", client_id, user_id)`` raises RATE_LIMITED
    (with ``retry_after`` in whole seconds) once the window is full.

    When the storage is unreachable the hit is allowed and a warning logged: a Redis outage
    should not turn into refusing every request.
    """

    def __init__(self, storage_uri: str, *, key_prefix: str = KEY_PREFIX, **options: Any) -> None:
        if storage_uri.startswith("async+redis"):
            # redis-py is imported anyway (arq, broadcaster); coredis would be one more client.
            options.setdefault("implementation", "redispy")
        if not storage_uri.startswith("async+memory"):
            options.setdefault("key_prefix", key_prefix)
        storage: object
        scheme = storage_uri.partition("://")[0]
        if scheme in _REDISPY_SCHEMES and options["implementation"] == "redispy":
            storage = _RedisPyStorage(storage_uri, wrap_exceptions=True, **options)
        else:
            storage = storage_from_string(storage_uri, wrap_exceptions=True, **options)
        if not isinstance(storage, Storage):
            raise ValueError(f"not an async storage URI (async+...): {storage_uri!r}")
        self.storage = storage
        self.strategy = MovingWindowRateLimiter(self.storage)

    @classmethod
    def memory(cls) -> RateLimiter:
        return cls("async+memory://")

    @classmethod
    def for_redis_url(cls, redis_url: str, *, key_prefix: str = KEY_PREFIX) -> RateLimiter:
        return cls(async_storage_uri(redis_url), key_prefix=key_prefix)

    @classmethod
    def for_runtime(cls, runtime: _HasRedisUrl) -> RateLimiter:
        return cls.for_redis_url(runtime.redis_url)

    async def hit(self, limit: str, *key: str, cost: int = 1) -> None:
        item = _parse(limit)
        try:
            if await self.strategy.hit(item, *key, cost=cost):
                return
            stats = await self.strategy.get_window_stats(item, *key)
        except StorageError as exc:
            log.warning("ratelimit.storage_unavailable", limit=limit, error=str(exc.storage_error))
            return
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(
            f"rate limit of {limit} exceeded; retry in {retry_after} s", retry_after=retry_after
        )

    async def status(self, limit: str, *key: str) -> LimitStatus:
        """What is left of `limit` for `key` now (all of it when the storage is down)."""
        item = _parse(limit)
        try:
            stats = await self.strategy.get_window_stats(item, *key)
        except StorageError:
            return LimitStatus(limit=limit, remaining=item.amount, reset_in_seconds=0)
        reset_in = max(0, math.ceil(stats.reset_time - time.time()))
        return LimitStatus(limit=limit, remaining=stats.remaining, reset_in_seconds=reset_in)

    async def reset(self) -> None:
        """Forget every counter under this limiter's prefix (tests)."""
        await self.storage.reset()

    async def aclose(self) -> None:
        """Close the storage's Redis client, if it has one."""
        client = getattr(getattr(self.storage, "bridge", None), "storage", None)
        close = getattr(client, "aclose", None)
        if close is not None:
            await close()
