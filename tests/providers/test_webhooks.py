"""Webhook verification, the Starlette endpoint, and webhooks waking a poller early."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from reelforge.providers.base import StillRequest
from reelforge.providers.replicate import ReplicateProvider
from reelforge.providers.webhooks import (
    PredictionWakeups,
    WebhookDeduplicator,
    fetch_default_webhook_secret,
    make_webhook_endpoint,
)
from reelforge.webhooks.signing import InvalidWebhook, sign_webhook, verify_webhook
from tests.fakes.replicate import DEFAULT_TOKEN, DEFAULT_WEBHOOK_SECRET, FakeReplicate
from tests.providers.conftest import FAKE_URL

SECRET = DEFAULT_WEBHOOK_SECRET
APP_URL = "http://app.test"
BODY = json.dumps({"id": "abc123", "status": "succeeded"}).encode()


def signed(
    body: bytes, *, webhook_id: str = "msg_1", at: float | None = None, secret: str = SECRET
) -> dict[str, str]:
    timestamp = int(time.time() if at is None else at)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_webhook(secret, webhook_id, timestamp, body),
        "content-type": "application/json",
    }


# -- verify_webhook -----------------------------------------------------------------------------


def test_a_correctly_signed_webhook_is_accepted() -> None:
    assert verify_webhook(signed(BODY), BODY, SECRET) == {"id": "abc123", "status": "succeeded"}


def test_one_valid_signature_among_several_is_enough() -> None:
    headers = signed(BODY)
    headers["webhook-signature"] = "v1,bm90LXRoaXMtb25l " + headers["webhook-signature"]
    assert verify_webhook(headers, BODY, SECRET)["id"] == "abc123"


def test_header_names_are_case_insensitive() -> None:
    headers = {key.upper(): value for key, value in signed(BODY).items()}
    assert verify_webhook(headers, BODY, SECRET)["status"] == "succeeded"


@pytest.mark.parametrize(
    ("headers", "body", "secret"),
    [
        pytest.param(signed(BODY), BODY.replace(b"succeeded", b"failed"), SECRET, id="tampered"),
        pytest.param(signed(BODY, secret="whsec_b3RoZXIta2V5"), BODY, SECRET, id="wrong-key"),
        pytest.param(signed(BODY, at=time.time() - 400), BODY, SECRET, id="too-old"),
        pytest.param(signed(BODY, at=time.time() + 3600), BODY, SECRET, id="from-the-future"),
        pytest.param({"webhook-id": "msg_1"}, BODY, SECRET, id="missing-headers"),
        pytest.param(signed(b"[1, 2]"), b"[1, 2]", SECRET, id="not-an-object"),
    ],
)
def test_a_forged_or_stale_webhook_is_rejected(
    headers: dict[str, str], body: bytes, secret: str
) -> None:
    with pytest.raises(InvalidWebhook):
        verify_webhook(headers, body, secret)


def test_the_tolerance_is_measured_from_now() -> None:
    headers = signed(BODY, at=1_000_000)
    assert verify_webhook(headers, BODY, SECRET, now=1_000_250)
    with pytest.raises(InvalidWebhook):
        verify_webhook(headers, BODY, SECRET, now=1_000_250, tolerance=100)


# -- hubs ---------------------------------------------------------------------------------------


async def test_a_notification_wakes_the_waiter_at_once() -> None:
    wakeups = PredictionWakeups()
    waiter = asyncio.create_task(wakeups.wait("p1", 30))
    await asyncio.sleep(0)
    wakeups.notify("p1")
    assert await asyncio.wait_for(waiter, 1) is True


async def test_a_notification_before_the_wait_is_not_lost() -> None:
    wakeups = PredictionWakeups()
    wakeups.notify("p1")
    assert await asyncio.wait_for(wakeups.wait("p1", 30), 1) is True
    assert await wakeups.wait("p1", 0.01) is False  # consumed


async def test_waiting_without_a_notification_times_out() -> None:
    assert await PredictionWakeups().wait("p1", 0.01) is False


def test_the_deduplicator_forgets_the_oldest_ids() -> None:
    dedup = WebhookDeduplicator(max_size=2)
    assert dedup.seen("a") is False
    assert dedup.seen("a") is True
    dedup.add("b")
    dedup.add("c")
    assert "a" not in dedup
    assert "c" in dedup


# -- the endpoint -------------------------------------------------------------------------------


class Handled:
    def __init__(self, wakeups: PredictionWakeups | None = None) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.wakeups = wakeups

    async def __call__(self, payload: dict[str, Any]) -> None:
        self.payloads.append(payload)
        if self.wakeups is not None:
            self.wakeups.notify(payload["id"])


async def get_secret() -> str:
    return SECRET


def webhook_app(handled: Handled) -> Starlette:
    endpoint = make_webhook_endpoint(get_secret, handled)
    return Starlette(routes=[Route("/webhooks/replicate", endpoint, methods=["POST"])])


@pytest.fixture
async def app_client() -> AsyncIterator[tuple[httpx.AsyncClient, Handled]]:
    handled = Handled()
    transport = httpx.ASGITransport(app=webhook_app(handled))
    async with httpx.AsyncClient(transport=transport, base_url=APP_URL) as client:
        yield client, handled


async def test_the_endpoint_rejects_a_bad_signature_with_401(
    app_client: tuple[httpx.AsyncClient, Handled],
) -> None:
    client, handled = app_client
    headers = signed(BODY)
    headers["webhook-signature"] = "v1,AAAA"

    response = await client.post("/webhooks/replicate", content=BODY, headers=headers)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert handled.payloads == []


async def test_the_endpoint_rejects_an_old_timestamp_with_401(
    app_client: tuple[httpx.AsyncClient, Handled],
) -> None:
    client, handled = app_client
    response = await client.post(
        "/webhooks/replicate", content=BODY, headers=signed(BODY, at=time.time() - 3600)
    )
    assert response.status_code == 401
    assert handled.payloads == []


async def test_the_endpoint_handles_a_duplicate_once(
    app_client: tuple[httpx.AsyncClient, Handled],
) -> None:
    client, handled = app_client
    headers = signed(BODY, webhook_id="msg_dup")

    first = await client.post("/webhooks/replicate", content=BODY, headers=headers)
    second = await client.post("/webhooks/replicate", content=BODY, headers=headers)

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["duplicate"] is True
    assert handled.payloads == [{"id": "abc123", "status": "succeeded"}]


async def test_the_endpoint_refuses_a_body_over_one_megabyte(
    app_client: tuple[httpx.AsyncClient, Handled],
) -> None:
    client, handled = app_client
    body = json.dumps({"id": "x", "logs": "x" * (1024 * 1024)}).encode()

    response = await client.post("/webhooks/replicate", content=body, headers=signed(body))

    assert response.status_code == 413
    assert handled.payloads == []


async def test_the_default_secret_is_fetched_from_replicate(
    fake: FakeReplicate, http: httpx.AsyncClient
) -> None:
    assert await fetch_default_webhook_secret(http, FAKE_URL, DEFAULT_TOKEN) == SECRET


# -- end to end: the fake delivers, the endpoint verifies, the poller wakes ---------------------


async def test_a_webhook_finishes_the_wait_without_the_next_poll() -> None:
    wakeups = PredictionWakeups()
    handled = Handled(wakeups)
    app_transport = httpx.ASGITransport(app=webhook_app(handled))
    async with (
        httpx.AsyncClient(transport=app_transport, base_url=APP_URL) as to_app,
    ):
        fake = FakeReplicate(latency=0.2, webhook_client=to_app)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=fake.app), base_url=FAKE_URL
        ) as to_fake:
            provider = ReplicateProvider(
                token=DEFAULT_TOKEN,
                http=to_fake,
                base_url=FAKE_URL,
                poll_interval=30.0,  # only a webhook can end this wait quickly
                webhook_poll_interval=30.0,  # polling is only the safety net
                prefer_wait=0,  # wait for the webhook, not in the create
                webhook_url=f"{APP_URL}/webhooks/replicate",
                wakeups=wakeups,
            )
            started = time.monotonic()
            result = await provider.still(
                StillRequest(prompt="shoe", width=320, height=180, aspect_ratio="16:9", seed=1)
            )
            elapsed = time.monotonic() - started
        await fake.aclose()

    assert elapsed < 5
    assert fake.webhook_deliveries == [(result.meta.external_id, 200)]
    assert [p["id"] for p in handled.payloads] == [result.meta.external_id]
    assert len(fake.get_calls) == 1  # woken once, then the prediction had succeeded
