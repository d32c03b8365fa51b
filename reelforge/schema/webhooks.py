"""GraphQL types and inputs of outgoing webhooks."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from reelforge.models import WebhookAttempt as AttemptRow
from reelforge.models import WebhookDelivery as DeliveryRow
from reelforge.models import WebhookEndpoint as EndpointRow
from reelforge.models import as_utc
from reelforge.schema.types import PageInfo
from reelforge.webhooks.events import WebhookEvent

WebhookEventType = strawberry.enum(
    WebhookEvent,
    name="WebhookEventType",
    description="An event a webhook endpoint can subscribe to (its `type` in the body)",
)


@strawberry.enum(description="Where a delivery is: waiting for its next try, or done")
class WebhookDeliveryStatus(Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@strawberry.input
class CreateWebhookEndpointInput:
    url: str = strawberry.field(
        description="Where events are POSTed: https in production, never a private address"
    )
    events: list[WebhookEventType] = strawberry.field(  # type: ignore[valid-type]
        description="The events to receive"
    )
    description: str | None = None


@strawberry.type(description="A URL that receives the client's job events, signed")
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    events: list[WebhookEventType]  # type: ignore[valid-type]
    description: str | None
    secret: str | None = strawberry.field(
        description="The signing secret (whsec_…): shown only by create and rotate"
    )
    enabled: bool
    disabled_reason: str | None = strawberry.field(description="Why the endpoint was disabled")
    disabled_at: datetime | None
    failing_since: datetime | None = strawberry.field(
        description="Since when every attempt failed (none while it works)"
    )
    created_at: datetime

    @classmethod
    def from_row(cls, row: EndpointRow, *, show_secret: bool = False) -> WebhookEndpoint:
        return cls(
            id=strawberry.ID(row.id),
            url=row.url,
            events=[WebhookEvent(e) for e in row.events],
            description=row.description,
            secret=row.secret if show_secret else None,
            enabled=row.enabled,
            disabled_reason=row.disabled_reason,
            disabled_at=as_utc(row.disabled_at) if row.disabled_at else None,
            failing_since=as_utc(row.failing_since) if row.failing_since else None,
            created_at=as_utc(row.created_at),
        )


@strawberry.type(description="One HTTP attempt of a delivery")
class WebhookAttempt:
    number: int
    outcome: str = strawberry.field(
        description="delivered, http_error, timeout, network_error or blocked"
    )
    response_code: int | None = strawberry.field(description="The receiver's HTTP status")
    duration_ms: int
    error: str | None
    started_at: datetime

    @classmethod
    def from_row(cls, row: AttemptRow) -> WebhookAttempt:
        return cls(
            number=row.number,
            outcome=row.outcome,
            response_code=row.response_code,
            duration_ms=row.duration_ms,
            error=row.error,
            started_at=as_utc(row.started_at),
        )


@strawberry.type(description="One event sent to one endpoint, with its attempts")
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(description="Also the webhook-id header of every try")
    endpoint_id: strawberry.ID
    event_type: WebhookEventType  # type: ignore[valid-type]
    status: WebhookDeliveryStatus
    attempt_count: int
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next try is due (while PENDING)"
    )
    last_response_code: int | None
    last_error: str | None
    created_at: datetime
    completed_at: datetime | None
    body: str = strawberry.field(description="The JSON sent, exactly as signed")
    attempts: list[WebhookAttempt]

    @classmethod
    def from_row(cls, row: DeliveryRow, attempts: list[AttemptRow]) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(row.id),
            endpoint_id=strawberry.ID(row.endpoint_id),
            event_type=WebhookEvent(row.event_type),
            status=WebhookDeliveryStatus(row.status),
            attempt_count=row.attempt_count,
            next_attempt_at=as_utc(row.next_attempt_at) if row.next_attempt_at else None,
            last_response_code=row.last_response_code,
            last_error=row.last_error,
            created_at=as_utc(row.created_at),
            completed_at=as_utc(row.completed_at) if row.completed_at else None,
            body=row.body,
            attempts=[WebhookAttempt.from_row(a) for a in attempts],
        )


@strawberry.type
class WebhookDeliveryEdge:
    cursor: str
    node: WebhookDelivery


@strawberry.type
class WebhookDeliveryConnection:
    edges: list[WebhookDeliveryEdge]
    page_info: PageInfo
    total_count: int
