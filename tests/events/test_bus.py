"""The progress bus at its own level: a lone subscriber on an idle link hears every message,
and a quiet subscription says so (IDLE) instead of hanging."""

from __future__ import annotations

import asyncio

from redis import asyncio as aioredis

from reelforge.events import IDLE, ProgressBus


async def test_a_lone_subscriber_after_an_idle_spell_hears_every_message(redis_url: str) -> None:
    # The health check falls due while the link idles, so SUBSCRIBE has to wait on a PING:
    # the moment the listener used to give up for good (0 of 5 messages).
    bus = ProgressBus(redis_url, health_check_interval=1)
    await bus.connect()
    publisher = aioredis.Redis.from_url(redis_url)
    try:
        await asyncio.sleep(1.5)
        async with bus.subscribe("job:lone") as messages:
            for n in range(5):
                await publisher.publish("job:lone", f"m{n}")

            async def first_five() -> list[str]:
                got = []
                async for message in messages:
                    got.append(message)
                    if len(got) == 5:
                        return got
                return got

            assert await asyncio.wait_for(first_five(), 5) == [f"m{n}" for n in range(5)]
    finally:
        await publisher.aclose()
        await bus.disconnect()


async def test_a_quiet_subscription_reports_idle(redis_url: str) -> None:
    bus = ProgressBus(redis_url)
    await bus.connect()
    try:
        async with bus.subscribe("job:quiet", idle_after=0.2) as messages:
            assert await asyncio.wait_for(anext(messages), 5) == IDLE
    finally:
        await bus.disconnect()
