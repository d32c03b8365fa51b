"""Job progress over Redis pub/sub, carried to GraphQL subscriptions by broadcaster.

Workers publish a JSON string on `job:{id}` after every committed job write; the API
process subscribes through one shared pub/sub connection. broadcaster's Redis listener dies
silently when the connection drops, so `ResilientRedisBackend` reconnects with backoff and
then tells every subscriber `RECONNECTED`, so they re-read the job from the database and
never miss a final state that was published while the link was down. A subscriber may also
ask for `IDLE` after a quiet spell (`idle_after`), so a message lost anywhere on the way
delays an update but never loses the final state."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from broadcaster import Broadcast, Event
from broadcaster._backends.redis import RedisBackend
from broadcaster._base import Unsubscribed
from redis import asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = structlog.get_logger(__name__)

RECONNECTED = "__reconnected__"
IDLE = "__idle__"
WEBHOOK_CHANNEL = "replicate:webhooks"


def job_channel(job_id: str) -> str:
    return f"job:{job_id}"


class ResilientRedisBackend(RedisBackend):
    def __init__(
        self, url: str, *, max_backoff: float = 5.0, health_check_interval: float = 5
    ) -> None:
        super().__init__(url)
        # Pings the idle pub/sub link so a half-open connection is noticed, not waited on.
        self._conn = aioredis.Redis.from_url(
            url, health_check_interval=health_check_interval, socket_keepalive=True
        )
        self._pubsub = self._conn.pubsub()
        self._max_backoff = max_backoff
        self.reconnects = 0

    async def disconnect(self) -> None:
        # Stop listening first: closing the link under a running listener reads as an outage.
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        await self._pubsub.aclose()
        await self._conn.aclose()

    async def subscribe(self, channel: str) -> None:
        # Wake the listener only once SUBSCRIBE is done. broadcaster wakes it first: when
        # the SUBSCRIBE then waits (a health-check PING is due once the link idled for
        # PROGRESS_HEALTH_CHECK_INTERVAL), the listener finds no channel, leaves its loop
        # and sleeps for good, and a lone subscriber hears nothing more.
        await self._pubsub.subscribe(channel)
        self._ready.set()

    async def _pubsub_listener(self) -> None:
        attempt = 0
        while True:
            await self._ready.wait()
            try:
                if attempt:
                    # Reconnecting runs redis-py's on_connect, which re-subscribes every channel.
                    await self._pubsub.connect()
                    self.reconnects += 1
                    attempt = 0
                    log.info("events.redis.reconnected", channels=len(self._pubsub.channels))
                    for channel in list(self._pubsub.channels):
                        name = channel.decode() if isinstance(channel, bytes) else str(channel)
                        await self._queue.put(Event(channel=name, message=RECONNECTED))
                async for message in self._pubsub.listen():
                    if message["type"] == "message":
                        await self._queue.put(
                            Event(
                                channel=message["channel"].decode(),
                                message=message["data"].decode(),
                            )
                        )
                self._ready.clear()
            except asyncio.CancelledError:
                raise
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                attempt += 1
                delay = min(self._max_backoff, 0.1 * 2**attempt) * (0.5 + random.random() / 2)
                log.warning("events.redis.disconnected", error=str(exc), retry_in=round(delay, 2))
                await asyncio.sleep(delay)


class ProgressBus:
    """Subscribe to job channels (API) and to webhook wake-ups (workers)."""

    def __init__(self, redis_url: str, *, health_check_interval: float = 5) -> None:
        self.backend = ResilientRedisBackend(redis_url, health_check_interval=health_check_interval)
        self.broadcast = Broadcast(backend=self.backend)

    async def connect(self) -> None:
        await self.broadcast.connect()

    async def disconnect(self) -> None:
        await self.broadcast.disconnect()

    @asynccontextmanager
    async def subscribe(
        self, channel: str, *, idle_after: float | None = None
    ) -> AsyncIterator[AsyncIterator[str]]:
        """The channel's messages; with `idle_after`, also `IDLE` after every that many
        seconds without one, so the subscriber can re-read what it watches."""
        async with self.broadcast.subscribe(channel) as subscriber:

            async def messages() -> AsyncIterator[str]:
                while True:
                    try:
                        event = await asyncio.wait_for(subscriber.get(), idle_after)
                    except TimeoutError:
                        yield IDLE
                        continue
                    except Unsubscribed:
                        return
                    yield event.message

            yield messages()


async def publish(redis: aioredis.Redis, channel: str, payload: dict[str, Any]) -> None:
    """Publish a JSON string; a Redis failure is logged, never raised: the write it reports is
    already committed, and subscribers re-read the database after a reconnect."""
    try:
        await redis.publish(channel, json.dumps(payload, default=str))
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        log.warning("events.publish.failed", channel=channel, error=str(exc))
