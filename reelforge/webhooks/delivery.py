"""Sending deliveries: one attempt per task, retried on a schedule, at least once.

An attempt claims its delivery (a lease: due again after twice the timeout), signs the
stored body with a fresh timestamp and the same `webhook-id` (the delivery id), sends it
to the address the SSRF guard checked, and records what happened. Any 2xx answer is
delivered; a timeout, a network error or any other answer (redirects included, never
followed) is retried after the next wait of `WEBHOOK_RETRY_SCHEDULE`, until the schedule
runs out. An endpoint whose every attempt failed for `WEBHOOK_DISABLE_AFTER` is disabled,
with the reason shown in the API. The sweep re-queues every delivery that is due: the ones
whose queue entry was lost and the ones whose worker died mid-attempt."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx
import structlog

from reelforge.config import Settings
from reelforge.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    as_utc,
    utcnow,
)
from reelforge.observability.metrics import (
    WEBHOOK_DELIVERIES,
    WEBHOOK_DELIVERY_DURATION,
    WEBHOOK_ENDPOINTS_DISABLED,
    WEBHOOKS_PENDING,
)
from reelforge.runtime import Runtime
from reelforge.tls import certifi_tls_context
from reelforge.webhooks.outbox import enqueue_delivery
from reelforge.webhooks.repository import WebhookRepository
from reelforge.webhooks.signing import webhook_headers
from reelforge.webhooks.urls import BlockedDestination, Policy, resolve_destination

log = structlog.get_logger(__name__)

MAX_RESPONSE_BYTES = 64 * 1024  # read at most this much of an answer, then hang up
MAX_ERROR_CHARS = 500
USER_AGENT = "Reelforge-Webhooks/1"
SWEEP_BATCH = 500
JITTER = 0.1  # retries spread by up to ±10 %, so a recovering receiver is not hit at once


class Outcome(StrEnum):
    DELIVERED = "delivered"
    HTTP_ERROR = "http_error"
    TIMEOUT = "timeout"
    NETWORK_ERROR = "network_error"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class AttemptResult:
    outcome: Outcome
    response_code: int | None
    error: str | None
    seconds: float


def lease(settings: Settings) -> timedelta:
    """How long a claimed attempt may take before its delivery is due again."""
    return settings.webhook_timeout * 2


def retry_delay(settings: Settings, attempts: int) -> timedelta | None:
    """The wait after `attempts` failed attempts, or None when the schedule ran out."""
    schedule = settings.webhook_retry_schedule
    if attempts > len(schedule):
        return None
    return schedule[attempts - 1] * random.uniform(1 - JITTER, 1 + JITTER)


async def send(url: str, headers: dict[str, str], body: bytes, settings: Settings) -> AttemptResult:
    """POST `body` to `url`, connecting only to an address the SSRF guard passed."""
    started = time.perf_counter()
    policy = Policy.for_production(settings.is_production)
    timeout = settings.webhook_timeout.total_seconds()
    code: int | None = None
    try:
        async with asyncio.timeout(timeout):  # the whole attempt, however slowly it drips
            destination = await resolve_destination(url, policy)
            async with httpx.AsyncClient(
                verify=certifi_tls_context(),
                trust_env=False,
                follow_redirects=False,
                timeout=timeout,
            ) as client:
                request = client.build_request(
                    "POST",
                    destination.pinned_url,
                    content=body,
                    headers={
                        **headers,
                        "Host": destination.host_header,
                        "Content-Type": "application/json",
                        "User-Agent": USER_AGENT,
                    },
                    # TLS checks the certificate against the name, not the pinned address.
                    extensions={"sni_hostname": destination.url.host},
                )
                response = await client.send(request, stream=True)
                try:
                    code = response.status_code
                    received = 0
                    async for chunk in response.aiter_raw():
                        received += len(chunk)
                        if received >= MAX_RESPONSE_BYTES:
                            break
                finally:
                    await response.aclose()
    except BlockedDestination as exc:
        return AttemptResult(Outcome.BLOCKED, None, str(exc), time.perf_counter() - started)
    except (TimeoutError, httpx.TimeoutException):
        return AttemptResult(
            Outcome.TIMEOUT, code, f"no answer within {timeout:g} s", time.perf_counter() - started
        )
    except (httpx.HTTPError, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}".strip(": ")[:MAX_ERROR_CHARS]
        return AttemptResult(Outcome.NETWORK_ERROR, code, error, time.perf_counter() - started)
    seconds = time.perf_counter() - started
    if 200 <= code < 300:
        return AttemptResult(Outcome.DELIVERED, code, None, seconds)
    return AttemptResult(Outcome.HTTP_ERROR, code, f"answered HTTP {code}", seconds)


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, and the previous one while its rotation grace lasts."""
    found = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and as_utc(expires) > now:
        found.append(endpoint.previous_secret)
    return found


async def deliver(runtime: Runtime, delivery_id: str) -> None:
    """Make one attempt of a due delivery; schedule the next one if it failed."""
    settings = runtime.settings
    now = utcnow()
    async with runtime.unit() as unit:
        repo = WebhookRepository(unit.session)
        if not await repo.claim(delivery_id, now=now, until=now + lease(settings)):
            log.info("webhook.not_due", delivery_id=delivery_id)  # done, or another has it
            return
        delivery = await repo.get_delivery(delivery_id, client_id=None)
        endpoint = await repo.get_endpoint(delivery.endpoint_id, client_id=None)
        if not endpoint.enabled:
            delivery.status = WebhookDeliveryStatus.FAILED.value
            delivery.next_attempt_at = None
            delivery.completed_at = now
            delivery.last_error = f"not sent: the endpoint is disabled ({endpoint.disabled_reason})"
            return  # the unit commits as it closes
        url, body = endpoint.url, delivery.body.encode()
        headers = webhook_headers(signing_secrets(endpoint, now), delivery.id, body)

    result = await send(url, headers, body, settings)
    WEBHOOK_DELIVERIES.labels(outcome=result.outcome.value).inc()
    WEBHOOK_DELIVERY_DURATION.labels(outcome=result.outcome.value).observe(result.seconds)

    async with runtime.unit() as unit:
        repo = WebhookRepository(unit.session)
        delivery = await repo.get_delivery(delivery_id, client_id=None)
        endpoint = await repo.get_endpoint(delivery.endpoint_id, client_id=None)
        record_attempt(delivery, endpoint, result, started_at=now, settings=settings)
        await repo.add_attempt(
            WebhookAttempt(
                delivery_id=delivery.id,
                number=delivery.attempt_count,
                outcome=result.outcome.value,
                response_code=result.response_code,
                duration_ms=round(result.seconds * 1000),
                error=result.error,
                started_at=now,
            )
        )
        pending = delivery.status == WebhookDeliveryStatus.PENDING.value
        due = delivery.next_attempt_at if pending else None
    log.info(
        "webhook.attempt",
        delivery_id=delivery_id,
        webhook_event=delivery.event_type,
        attempt=delivery.attempt_count,
        outcome=result.outcome.value,
        code=result.response_code,
        ms=round(result.seconds * 1000),
        next_attempt_at=due.isoformat() if due else None,
    )
    if due is not None:
        await enqueue_delivery(runtime.enqueue, delivery_id, due)


def record_attempt(
    delivery: WebhookDelivery,
    endpoint: WebhookEndpoint,
    result: AttemptResult,
    *,
    started_at: datetime,
    settings: Settings,
) -> None:
    """Apply an attempt's result to its delivery and endpoint (the rules, no I/O)."""
    delivery.attempt_count += 1
    delivery.last_response_code = result.response_code
    delivery.last_error = result.error
    now = utcnow()
    if result.outcome is Outcome.DELIVERED:
        delivery.status = WebhookDeliveryStatus.SUCCEEDED.value
        delivery.next_attempt_at = None
        delivery.completed_at = now
        endpoint.failing_since = None
        return
    failing_since = as_utc(endpoint.failing_since) if endpoint.failing_since else started_at
    endpoint.failing_since = failing_since
    delay = retry_delay(settings, delivery.attempt_count)
    if delay is None:
        delivery.status = WebhookDeliveryStatus.FAILED.value
        delivery.next_attempt_at = None
        delivery.completed_at = now
    else:
        delivery.next_attempt_at = now + delay
    if endpoint.enabled and now - failing_since >= settings.webhook_disable_after:
        endpoint.enabled = False
        endpoint.disabled_at = now
        endpoint.disabled_reason = (
            f"disabled after every attempt failed since {failing_since.isoformat()} "
            f"(last: {result.error})"
        )
        WEBHOOK_ENDPOINTS_DISABLED.inc()
        log.warning("webhook.endpoint_disabled", endpoint_id=endpoint.id, reason=result.error)


async def sweep(runtime: Runtime) -> int:
    """Queue every delivery that is due (lost queue entries, workers that died mid-attempt)."""
    now = utcnow()
    async with runtime.unit() as unit:
        repo = WebhookRepository(unit.session)
        due = [
            (d.id, d.next_attempt_at or now)
            for d in await repo.due_deliveries(now, limit=SWEEP_BATCH)
        ]
        WEBHOOKS_PENDING.set(await repo.count_pending())
    for delivery_id, at in due:
        await enqueue_delivery(runtime.enqueue, delivery_id, at)
    if due:
        log.info("webhook.sweep", queued=len(due))
    return len(due)


async def deliver_webhook(ctx: dict[str, Any], delivery_id: str) -> None:
    """arq task: one attempt of one delivery."""
    await deliver(ctx["runtime"], delivery_id)


async def sweep_webhook_deliveries(ctx: dict[str, Any]) -> int:
    """arq cron: re-queue due deliveries."""
    return await sweep(ctx["runtime"])
