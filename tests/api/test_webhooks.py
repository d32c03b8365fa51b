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


def configured(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "replicate_webhook_secret": SecretStr(SECRET),
            "public_base_url": "https://api.example.com",
        }
    )


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
    runtime.settings = configured(settings)
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


async def test_the_route_exists_only_when_webhooks_are_configured(
    settings: Settings, runtime: Runtime
) -> None:
    from reelforge.app import create_app

    body = json.dumps({"id": "pred-1"}).encode()
    no_url = settings.model_copy(update={"replicate_webhook_secret": SecretStr(SECRET)})
    for unconfigured in (settings, no_url):
        app = create_app(unconfigured, runtime=runtime)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            response = await c.post("/webhooks/replicate", content=body, headers=signed(body))
        assert response.status_code == 404


async def test_anything_unverifiable_is_a_client_error(
    settings: Settings, runtime: Runtime
) -> None:
    from reelforge.app import create_app

    runtime.settings = configured(settings)  # the secret is read from the runtime's settings
    app = create_app(runtime.settings, runtime=runtime)
    deep = b'{"id": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    cases = [
        (b"", {}),
        (b"{}", {"webhook-id": "x"}),
        (deep, signed(deep, webhook_id="deep")),
        (b"\xff\xfe", signed(b"\xff\xfe", webhook_id="bytes")),
        (b"[1]", signed(b"[1]", webhook_id="list")),
    ]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        for body, headers in cases:
            response = await c.post("/webhooks/replicate", content=body, headers=headers)
            assert 400 <= response.status_code < 500, (body[:20], response.status_code)


async def test_deduplication_survives_a_restart(
    settings: Settings, runtime: Runtime, redis_url: str
) -> None:
    from reelforge.app import create_app

    body = json.dumps({"id": "pred-9", "status": "succeeded"}).encode()
    headers = signed(body, webhook_id="msg_restart")
    answers = []
    for _ in range(2):  # a fresh runtime and app each time, as after a restart
        fresh = await Runtime.start(configured(settings), redis_url=redis_url)
        try:
            app = create_app(fresh.settings, runtime=fresh)
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://t"
            ) as c:
                answers.append(
                    (await c.post("/webhooks/replicate", content=body, headers=headers)).json()
                )
        finally:
            await fresh.aclose()
    assert answers == [{"ok": True}, {"ok": True, "duplicate": True}]
