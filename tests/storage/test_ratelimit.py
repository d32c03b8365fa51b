"""reelforge.ratelimit: moving-window limits on memory or Redis storage."""

from __future__ import annotations

import uuid

import pytest

from reelforge.errors import RateLimited
from reelforge.ratelimit import RateLimiter, async_storage_uri


@pytest.mark.parametrize(
    ("url", "uri"),
    [
        ("redis://127.0.0.1:6379/0", "async+redis://127.0.0.1:6379/0"),
        ("rediss://:pw@cache.example:6380", "async+rediss://:pw@cache.example:6380"),
        ("unix:///run/valkey.sock?db=0", "async+redis+unix:///run/valkey.sock?db=0"),
        ("valkey://127.0.0.1:6379", "async+valkey://127.0.0.1:6379"),
    ],
)
def test_async_storage_uri(url: str, uri: str) -> None:
    assert async_storage_uri(url) == uri


def test_async_storage_uri_refuses_other_urls() -> None:
    with pytest.raises(ValueError, match="not a Redis URL"):
        async_storage_uri("http://127.0.0.1:6379")


async def test_limit_is_per_key_with_retry_after() -> None:
    limiter = RateLimiter.memory()
    for _ in range(3):
        await limiter.hit("3/minute", "upload", "acme", "u1")
    with pytest.raises(RateLimited) as caught:
        await limiter.hit("3/minute", "upload", "acme", "u1")
    assert 59 <= caught.value.retry_after <= 60
    assert caught.value.extensions == {
        "code": "RATE_LIMITED",
        "retryAfter": caught.value.retry_after,
    }
    await limiter.hit("3/minute", "upload", "acme", "u2")


async def test_unreachable_storage_lets_requests_through() -> None:
    limiter = RateLimiter.for_redis_url("redis://127.0.0.1:1/0")
    try:
        for _ in range(3):
            await limiter.hit("1/minute", "upload", "acme", "u1")
    finally:
        await limiter.aclose()


async def test_redis_limit_is_shared_between_limiters(redis_url: str) -> None:
    prefix = f"reelforge-test-{uuid.uuid4().hex}"
    first = RateLimiter.for_redis_url(redis_url, key_prefix=prefix)
    second = RateLimiter.for_redis_url(redis_url, key_prefix=prefix)
    try:
        await first.hit("2/minute", "upload", "acme", "u1")
        await second.hit("2/minute", "upload", "acme", "u1")
        with pytest.raises(RateLimited):
            await first.hit("2/minute", "upload", "acme", "u1")
    finally:
        await first.reset()
        await first.aclose()
        await second.aclose()
