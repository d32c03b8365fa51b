"""The webhook rules a client meets through the API: its endpoints (isolated per client,
like jobs), their secrets, their deliveries, and sending one again."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import structlog

from reelforge.auth import Principal
from reelforge.db import UnitOfWork
from reelforge.errors import BadUserInput, Conflict
from reelforge.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    utcnow,
)
from reelforge.runtime import Runtime
from reelforge.webhooks.events import WebhookEvent
from reelforge.webhooks.outbox import enqueue_delivery
from reelforge.webhooks.repository import DeliveryPage, WebhookRepository
from reelforge.webhooks.signing import generate_secret
from reelforge.webhooks.urls import BlockedDestination, Policy, resolve_destination

log = structlog.get_logger(__name__)

MAX_ENDPOINTS_PER_CLIENT = 20
MAX_DESCRIPTION_CHARS = 500
# After a rotation the old secret also signs for this long, so receivers can switch over.
ROTATION_GRACE = timedelta(hours=24)


class WebhookService:
    def __init__(self, runtime: Runtime, unit: UnitOfWork, principal: Principal) -> None:
        """On the caller's unit of work (the GraphQL operation's): it commits, not us."""
        self.rt = runtime
        self.unit = unit
        self.principal = principal
        self.repo = WebhookRepository(unit.session)

    # -- endpoints ---------------------------------------------------------------------

    async def list_endpoints(self) -> list[WebhookEndpoint]:
        return await self.repo.list_endpoints(self.principal.client_id)

    async def create_endpoint(
        self, url: str, events: Sequence[WebhookEvent], description: str | None
    ) -> WebhookEndpoint:
        url = url.strip()
        await self.check_url(url)
        if not events:
            raise BadUserInput("subscribe to at least one event", field="events")
        if description is not None and len(description) > MAX_DESCRIPTION_CHARS:
            raise BadUserInput(
                f"description is limited to {MAX_DESCRIPTION_CHARS} characters",
                field="description",
            )
        if await self.repo.count_endpoints(self.principal.client_id) >= MAX_ENDPOINTS_PER_CLIENT:
            raise Conflict(f"a client has at most {MAX_ENDPOINTS_PER_CLIENT} webhook endpoints")
        endpoint = await self.repo.add_endpoint(
            WebhookEndpoint(
                client_id=self.principal.client_id,
                url=url,
                events=list(dict.fromkeys(e.value for e in events)),
                description=description.strip() if description else None,
                secret=generate_secret(),
                enabled=True,
            )
        )
        log.info("webhook.endpoint_created", endpoint_id=endpoint.id, events=endpoint.events)
        return endpoint

    async def check_url(self, url: str) -> None:
        """BAD_USER_INPUT unless webhooks may be sent to `url` (checked again at delivery)."""
        policy = Policy.for_production(self.rt.settings.is_production)
        try:
            await resolve_destination(url, policy)
        except BlockedDestination as exc:
            raise BadUserInput(f"this URL cannot receive webhooks: {exc}", field="url") from None

    async def delete_endpoint(self, endpoint_id: str) -> None:
        endpoint = await self.repo.get_endpoint(endpoint_id, client_id=self.principal.client_id)
        await self.repo.delete_endpoint(endpoint)
        log.info("webhook.endpoint_deleted", endpoint_id=endpoint_id)

    async def rotate_secret(self, endpoint_id: str) -> WebhookEndpoint:
        endpoint = await self.repo.get_endpoint(endpoint_id, client_id=self.principal.client_id)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = utcnow() + ROTATION_GRACE
        endpoint.secret = generate_secret()
        await self.repo.flush()
        return endpoint

    async def enable_endpoint(self, endpoint_id: str) -> WebhookEndpoint:
        """Turn a disabled endpoint back on (its failure streak starts over)."""
        endpoint = await self.repo.get_endpoint(endpoint_id, client_id=self.principal.client_id)
        endpoint.enabled = True
        endpoint.disabled_at = None
        endpoint.disabled_reason = None
        endpoint.failing_since = None
        await self.repo.flush()
        return endpoint

    # -- deliveries --------------------------------------------------------------------

    async def deliveries(self, endpoint_id: str, *, first: int, after: str | None) -> DeliveryPage:
        await self.repo.get_endpoint(endpoint_id, client_id=self.principal.client_id)
        return await self.repo.list_deliveries(endpoint_id, first=first, after=after)

    async def attempts(self, delivery_ids: Sequence[str]) -> dict[str, list[WebhookAttempt]]:
        return await self.repo.attempts(delivery_ids)

    async def redeliver(self, delivery_id: str) -> WebhookDelivery:
        """Send a delivery again now, with the same webhook-id (whatever its state)."""
        delivery = await self.repo.get_delivery(delivery_id, client_id=self.principal.client_id)
        endpoint = await self.repo.get_endpoint(delivery.endpoint_id, client_id=None)
        if not endpoint.enabled:
            raise Conflict("the endpoint is disabled; enable it first (enableWebhookEndpoint)")
        now = utcnow()
        delivery.status = WebhookDeliveryStatus.PENDING.value
        delivery.next_attempt_at = now
        delivery.completed_at = None
        await self.repo.flush()
        enqueue, delivery_id = self.rt.enqueue, delivery.id

        async def send() -> None:
            await enqueue_delivery(enqueue, delivery_id, now)

        self.unit.after_commit(send)
        return delivery
