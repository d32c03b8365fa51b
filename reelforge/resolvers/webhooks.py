"""Outgoing webhook queries and mutations: parse input, call the webhook service."""

from __future__ import annotations

import strawberry

from reelforge.schema.context import Info
from reelforge.schema.types import PageInfo
from reelforge.schema.webhooks import (
    CreateWebhookEndpointInput,
    WebhookDelivery,
    WebhookDeliveryConnection,
    WebhookDeliveryEdge,
    WebhookEndpoint,
)
from reelforge.webhooks.events import WebhookEvent
from reelforge.webhooks.repository import encode_cursor


async def webhook_endpoints(info: Info) -> list[WebhookEndpoint]:
    async with info.context.webhooks() as service:
        rows = await service.list_endpoints()
    return [WebhookEndpoint.from_row(r) for r in rows]


async def webhook_deliveries(
    info: Info, endpoint_id: strawberry.ID, first: int = 20, after: str | None = None
) -> WebhookDeliveryConnection:
    async with info.context.webhooks() as service:
        page = await service.deliveries(str(endpoint_id), first=first, after=after)
        attempts = await service.attempts([d.id for d in page.deliveries])
    return WebhookDeliveryConnection(
        edges=[
            WebhookDeliveryEdge(
                cursor=encode_cursor(d), node=WebhookDelivery.from_row(d, attempts[d.id])
            )
            for d in page.deliveries
        ],
        page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        total_count=page.total_count,
    )


async def create_webhook_endpoint(info: Info, input: CreateWebhookEndpointInput) -> WebhookEndpoint:
    async with info.context.webhooks() as service:
        row = await service.create_endpoint(
            input.url, [WebhookEvent(e) for e in input.events], input.description
        )
    return WebhookEndpoint.from_row(row, show_secret=True)


async def delete_webhook_endpoint(info: Info, id: strawberry.ID) -> bool:
    async with info.context.webhooks() as service:
        await service.delete_endpoint(str(id))
    return True


async def rotate_webhook_secret(info: Info, id: strawberry.ID) -> WebhookEndpoint:
    async with info.context.webhooks() as service:
        row = await service.rotate_secret(str(id))
    return WebhookEndpoint.from_row(row, show_secret=True)


async def enable_webhook_endpoint(info: Info, id: strawberry.ID) -> WebhookEndpoint:
    async with info.context.webhooks() as service:
        return WebhookEndpoint.from_row(await service.enable_endpoint(str(id)))


async def redeliver_webhook(info: Info, delivery_id: strawberry.ID) -> WebhookDelivery:
    async with info.context.webhooks() as service:
        row = await service.redeliver(str(delivery_id))
        attempts = await service.attempts([row.id])
    return WebhookDelivery.from_row(row, attempts[row.id])
