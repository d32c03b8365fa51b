"""Replicate webhooks through the app: verified, then relayed over Redis to the worker's poller."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
from pydantic import SecretStr

from reelforge.config import Settings
from reelforge.events import WEBHOOK_CHANNEL
from reelforge.runtime import Runtime
from reelforge.webhooks.signing import sign_webhook

SECRET = "whsec_" + "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seQ=="


def signed(
    body: bytes, *, webhook_id: str = "msg_1", timestamp: int | None = None
) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign_webhook(SECRET, webhook_id, ts, body),
        "content-type": "application/json",
    }


async def test_a_valid_webhook_wakes_the_waiting_poller(
    settings: Settings, runtime: Runtime, worker: Any
) -> None:
    from reelforge.app import create_app

    for _ in range(100):  # the worker's relay subscribes as it starts
        if (await runtime.redis.pubsub_numsub(WEBHOOK_CHANNEL))[0][1] > 0:
            break
        await asyncio.sleep(0.05)
    runtime.settings = settings.model_copy(update={"replicate_webhook_secret": SecretStr(SECRET)})
    app = create_app(runtime.settings, runtime=runtime)
    body = json.dumps({"id": "pred-123", "status": "succeeded"}).encode()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        bad = await client.post(
            "/webhooks/replicate",
            content=body,
            headers={**signed(body), "webhook-signature": "v1,AAAA"},
        )
        assert bad.status_code == 401
        old = await client.post(
            "/webhooks/replicate",
            content=body,
            headers=signed(body, timestamp=int(time.time()) - 600),
        )
        assert old.status_code == 401
        ok = await client.post("/webhooks/replicate", content=body, headers=signed(body))
        assert ok.status_code == 200
    assert await runtime.wakeups.wait("pred-123", 5.0), "the worker's poller was not woken"
