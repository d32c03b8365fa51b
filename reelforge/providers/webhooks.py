"""Replicate webhooks: signature verification (Standard Webhooks, as Replicate documents it),
the `POST /webhooks/replicate` endpoint, and the process-local hub that wakes a poller as
soon as its prediction's webhook arrives. Polling stays the fallback: a lost webhook only
costs one poll interval."""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import httpx
import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reelforge.config import ConfigError
from reelforge.observability.metrics import REPLICATE_API_ERRORS
from reelforge.providers.base import ProviderError
from reelforge.webhooks.signing import SECRET_PREFIX, InvalidWebhook, verify_webhook

log = structlog.get_logger(__name__)

MAX_WEBHOOK_BYTES = 1024 * 1024


class PredictionWakeups:
    """Process-local hub: `notify(id)` wakes whoever awaits `wait(id, timeout)`.

    A notification that arrives while nobody waits (between two polls) is kept, so the next
    `wait` returns at once instead of sleeping a whole poll interval. At most `max_pending`
    ids are remembered, oldest dropped first."""

    def __init__(self, *, max_pending: int = 10_000) -> None:
        self._events: OrderedDict[str, asyncio.Event] = OrderedDict()
        self._max_pending = max_pending

    def _event(self, prediction_id: str) -> asyncio.Event:
        event = self._events.get(prediction_id)
        if event is None:
            event = self._events[prediction_id] = asyncio.Event()
            while len(self._events) > self._max_pending:
                self._events.popitem(last=False)
        self._events.move_to_end(prediction_id)
        return event

    def notify(self, prediction_id: str) -> None:
        self._event(prediction_id).set()

    async def wait(self, prediction_id: str, timeout: float) -> bool:
        """True when woken by a notification, False when `timeout` seconds passed."""
        event = self._event(prediction_id)
        try:
            await asyncio.wait_for(event.wait(), timeout=max(timeout, 0.0))
        except TimeoutError:
            return False
        event.clear()
        return True

    def forget(self, prediction_id: str) -> None:
        """Drop what is kept for a finished prediction."""
        self._events.pop(prediction_id, None)


class WebhookDeduplicator:
    """Remembers the last `max_size` webhook ids handled, so a redelivery is ignored."""

    def __init__(self, max_size: int = 10_000) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._max_size = max_size

    def __contains__(self, webhook_id: object) -> bool:
        return webhook_id in self._seen

    def add(self, webhook_id: str) -> None:
        self._seen[webhook_id] = None
        self._seen.move_to_end(webhook_id)
        while len(self._seen) > self._max_size:
            self._seen.popitem(last=False)

    def seen(self, webhook_id: str) -> bool:
        """Whether `webhook_id` was handled before; records it either way."""
        known = webhook_id in self._seen
        self.add(webhook_id)
        return known

    async def contains(self, webhook_id: str) -> bool:
        return webhook_id in self

    async def remember(self, webhook_id: str) -> None:
        self.add(webhook_id)


class RedisWebhookDeduplicator:
    """The handled webhook ids in Redis for `ttl_seconds`: a redelivery is ignored even
    after a restart, and by every API process."""

    def __init__(self, redis: Callable[[], Any], *, ttl_seconds: int = 24 * 3600) -> None:
        self.redis = redis  # the client, looked up when needed (it lives in the runtime)
        self.ttl_seconds = ttl_seconds

    @staticmethod
    def key(webhook_id: str) -> str:
        digest = hashlib.sha256(webhook_id.encode("utf-8", "replace")).hexdigest()
        return f"reelforge:webhook:seen:{digest}"

    async def contains(self, webhook_id: str) -> bool:
        return bool(await self.redis().exists(self.key(webhook_id)))

    async def remember(self, webhook_id: str) -> None:
        await self.redis().set(self.key(webhook_id), b"1", ex=self.ttl_seconds)


class Deduplicator(Protocol):
    async def contains(self, webhook_id: str) -> bool: ...

    async def remember(self, webhook_id: str) -> None: ...


Endpoint = Callable[[Request], Awaitable[Response]]


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def make_webhook_endpoint(
    get_secret: Callable[[], Awaitable[str]],
    on_prediction: Callable[[dict[str, Any]], Awaitable[None]],
    *,
    deduplicator: Deduplicator | None = None,
    max_bytes: int = MAX_WEBHOOK_BYTES,
    tolerance: float = 300,
) -> Endpoint:
    """A Starlette endpoint for `POST /webhooks/replicate`.

    401 on a bad signature or stale timestamp, 413 over `max_bytes`, 200 for a duplicate
    (ignored) and after `on_prediction(payload)` returned. If `on_prediction` raises, the
    answer is 500 and the id is not remembered, so Replicate's redelivery gets another try."""
    dedup: Deduplicator = deduplicator if deduplicator is not None else WebhookDeduplicator()

    async def endpoint(request: Request) -> Response:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            return _error(413, "PAYLOAD_TOO_LARGE", f"webhook bodies are limited to {max_bytes}")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                return _error(
                    413, "PAYLOAD_TOO_LARGE", f"webhook bodies are limited to {max_bytes}"
                )
            chunks.append(chunk)
        body = b"".join(chunks)
        try:
            secret = await get_secret()
        except (ProviderError, ConfigError) as exc:
            # Nothing can be verified without the secret: refused, and Replicate retries.
            log.warning("replicate.webhook.no_secret", error=str(exc))
            return _error(503, "SERVICE_UNAVAILABLE", "webhook verification is unavailable")
        try:
            payload = verify_webhook(request.headers, body, secret, tolerance=tolerance)
        except InvalidWebhook as exc:
            log.warning("replicate.webhook.rejected", reason=str(exc))
            return _error(401, "UNAUTHENTICATED", "invalid webhook signature")
        webhook_id = request.headers["webhook-id"]
        prediction_id = payload.get("id")
        if await dedup.contains(webhook_id):
            log.info("replicate.webhook.duplicate", webhook_id=webhook_id, prediction=prediction_id)
            return JSONResponse({"ok": True, "duplicate": True})
        await on_prediction(payload)
        await dedup.remember(webhook_id)
        log.info(
            "replicate.webhook.received",
            webhook_id=webhook_id,
            prediction=prediction_id,
            status=payload.get("status"),
        )
        return JSONResponse({"ok": True})

    return endpoint


async def fetch_default_webhook_secret(http: httpx.AsyncClient, base_url: str, token: str) -> str:
    """The account's signing secret (`whsec_...`), from `GET /v1/webhooks/default/secret`."""
    url = base_url.rstrip("/") + "/v1/webhooks/default/secret"
    try:
        response = await http.get(url, headers={"Authorization": f"Bearer {token}"})
    except httpx.TransportError as exc:
        REPLICATE_API_ERRORS.labels(status="network").inc()
        raise ProviderError(
            f"could not fetch the webhook secret: {type(exc).__name__}", retryable=True
        ) from None
    if response.status_code != 200:
        REPLICATE_API_ERRORS.labels(status=str(response.status_code)).inc()
        raise ProviderError(
            f"could not fetch the webhook secret: HTTP {response.status_code}",
            retryable=response.status_code == 429 or response.status_code >= 500,
        )
    try:
        key = response.json()["key"]
    except (ValueError, KeyError, TypeError):
        key = None
    if not isinstance(key, str) or not key.startswith(SECRET_PREFIX):
        raise ProviderError("the webhook secret response has no whsec_ key", retryable=False)
    return key
