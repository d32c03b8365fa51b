"""The only module that reads and writes webhook endpoints, deliveries and attempts.
It flushes and never commits: the caller's unit of work does."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from reelforge.errors import BadUserInput, NotFound
from reelforge.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    as_utc,
)

MAX_PAGE_SIZE = 100


@dataclass
class DeliveryPage:
    deliveries: list[WebhookDelivery]
    has_next_page: bool
    end_cursor: str | None
    total_count: int


def encode_cursor(delivery: WebhookDelivery) -> str:
    raw = f"{as_utc(delivery.created_at).isoformat()}|{delivery.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created, delivery_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return datetime.fromisoformat(created), delivery_id
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadUserInput("invalid cursor", field="after") from exc


class WebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- endpoints ---------------------------------------------------------------------

    async def add_endpoint(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        self.session.add(endpoint)
        await self.session.flush()
        return endpoint

    async def get_endpoint(self, endpoint_id: str, *, client_id: str | None) -> WebhookEndpoint:
        """An endpoint by id; another client's is NOT_FOUND, never FORBIDDEN."""
        query = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
        if client_id is not None:
            query = query.where(WebhookEndpoint.client_id == client_id)
        query = query.execution_options(populate_existing=True)
        endpoint = (await self.session.execute(query)).scalar()
        if endpoint is None:
            raise NotFound(f"webhook endpoint {endpoint_id} not found", id=endpoint_id)
        return endpoint

    async def list_endpoints(self, client_id: str) -> list[WebhookEndpoint]:
        query = (
            select(WebhookEndpoint)
            .where(WebhookEndpoint.client_id == client_id)
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        )
        return list((await self.session.execute(query)).scalars())

    async def count_endpoints(self, client_id: str) -> int:
        query = select(func.count()).where(WebhookEndpoint.client_id == client_id)
        return int((await self.session.execute(query)).scalar_one())

    async def subscribed_endpoints(self, client_id: str, event: str) -> list[WebhookEndpoint]:
        """The client's enabled endpoints that subscribe to `event` (a client has a few
        endpoints, so the JSON list is filtered here rather than in dialect-specific SQL)."""
        query = select(WebhookEndpoint).where(
            WebhookEndpoint.client_id == client_id, WebhookEndpoint.enabled.is_(True)
        )
        endpoints = (await self.session.execute(query)).scalars()
        return [e for e in endpoints if event in (e.events or [])]

    async def delete_endpoint(self, endpoint: WebhookEndpoint) -> None:
        # Explicit, not only ON DELETE CASCADE: SQLite enforces it only with foreign keys on.
        delivery_ids = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint.id)
        await self.session.execute(
            delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(delivery_ids))
        )
        await self.session.execute(
            delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
        )
        await self.session.delete(endpoint)
        await self.session.flush()

    # -- deliveries --------------------------------------------------------------------

    async def add_deliveries(self, deliveries: Sequence[WebhookDelivery]) -> None:
        self.session.add_all(deliveries)
        await self.session.flush()

    async def get_delivery(self, delivery_id: str, *, client_id: str | None) -> WebhookDelivery:
        query = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
        if client_id is not None:
            query = query.join(WebhookEndpoint).where(WebhookEndpoint.client_id == client_id)
        query = query.execution_options(populate_existing=True)
        delivery = (await self.session.execute(query)).scalar()
        if delivery is None:
            raise NotFound(f"webhook delivery {delivery_id} not found", id=delivery_id)
        return delivery

    async def list_deliveries(
        self, endpoint_id: str, *, first: int = 20, after: str | None = None
    ) -> DeliveryPage:
        """An endpoint's deliveries, newest first (the caller checked the endpoint's owner)."""
        if not 1 <= first <= MAX_PAGE_SIZE:
            raise BadUserInput(f"first must be between 1 and {MAX_PAGE_SIZE}", field="first")
        where = WebhookDelivery.endpoint_id == endpoint_id
        total = (await self.session.execute(select(func.count()).where(where))).scalar_one()
        query = select(WebhookDelivery).where(where)
        if after:
            created_at, delivery_id = decode_cursor(after)
            query = query.where(
                or_(
                    WebhookDelivery.created_at < created_at,
                    and_(
                        WebhookDelivery.created_at == created_at,
                        WebhookDelivery.id < delivery_id,
                    ),
                )
            )
        query = query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        rows = list((await self.session.execute(query.limit(first + 1))).scalars())
        has_next = len(rows) > first
        rows = rows[:first]
        return DeliveryPage(rows, has_next, encode_cursor(rows[-1]) if rows else None, total)

    async def attempts(self, delivery_ids: Sequence[str]) -> dict[str, list[WebhookAttempt]]:
        """The attempts of several deliveries in one query, oldest first."""
        found: dict[str, list[WebhookAttempt]] = {i: [] for i in delivery_ids}
        if not delivery_ids:
            return found
        query = (
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(list(delivery_ids)))
            .order_by(WebhookAttempt.delivery_id, WebhookAttempt.number, WebhookAttempt.id)
        )
        for attempt in (await self.session.execute(query)).scalars():
            found[attempt.delivery_id].append(attempt)
        return found

    async def claim(self, delivery_id: str, *, now: datetime, until: datetime) -> bool:
        """Take a due delivery for one attempt: it stays pending, due again at `until` (the
        lease), so a worker killed mid-attempt leaves it for the sweep to send again, and
        two workers never send the same attempt at once."""
        result = await self.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == WebhookDeliveryStatus.PENDING.value,
                WebhookDelivery.next_attempt_at <= now,
            )
            .values(next_attempt_at=until)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def add_attempt(self, attempt: WebhookAttempt) -> None:
        self.session.add(attempt)
        await self.session.flush()

    async def due_deliveries(self, now: datetime, *, limit: int) -> list[WebhookDelivery]:
        query = (
            select(WebhookDelivery)
            .where(
                WebhookDelivery.status == WebhookDeliveryStatus.PENDING.value,
                WebhookDelivery.next_attempt_at <= now,
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
        )
        return list((await self.session.execute(query)).scalars())

    async def count_pending(self) -> int:
        query = select(func.count()).where(
            WebhookDelivery.status == WebhookDeliveryStatus.PENDING.value
        )
        return int((await self.session.execute(query)).scalar_one())

    async def flush(self) -> None:
        await self.session.flush()
