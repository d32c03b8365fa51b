"""The outbox: a delivery row per subscribed endpoint, written in the same unit of work as
the state change that raises the event (so an event is never lost nor sent for a change
that rolled back), then queued for the workers once that unit has committed. The rows are
the source of truth: a lost queue entry is found again by the sweep."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import structlog

from reelforge.config import Settings
from reelforge.db import UnitOfWork
from reelforge.models import (
    Export,
    Job,
    WebhookDelivery,
    WebhookDeliveryStatus,
    as_utc,
    utcnow,
)
from reelforge.storage.repository import AssetRepository
from reelforge.webhooks.events import EXPORT_STATUS_EVENTS, JOB_STATUS_EVENTS, WebhookEvent
from reelforge.webhooks.repository import WebhookRepository

log = structlog.get_logger(__name__)

DELIVER_TASK = "deliver_webhook"


class Enqueue(Protocol):
    """`Runtime.enqueue`: queue a task once under `key`, not before `defer_until`."""

    async def __call__(
        self, task: str, *args: Any, key: str, defer_until: datetime | None = None
    ) -> None: ...


def delivery_key(delivery_id: str, due: datetime) -> str:
    """The task id of the attempt due at `due`: queued twice (by the sender's retry and by
    the sweep), it still runs once."""
    return f"webhook:{delivery_id}:{int(as_utc(due).timestamp() * 1000)}"


async def enqueue_delivery(enqueue: Enqueue, delivery_id: str, due: datetime) -> None:
    await enqueue(DELIVER_TASK, delivery_id, key=delivery_key(delivery_id, due), defer_until=due)


class WebhookOutbox:
    """Collects the deliveries of one unit of work; `send` them after it commits."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._recorded: list[WebhookDelivery] = []

    async def job_reached(self, unit: UnitOfWork, job: Job) -> None:
        """`job` (as written in this unit) reached its status: record its event, if any."""
        event = JOB_STATUS_EVENTS.get(job.status)
        if event is None:
            return
        video = None
        if job.video_asset_id:
            video = await AssetRepository(unit).get(job.video_asset_id, client_id=None)

        def data() -> dict[str, Any]:
            from reelforge.webhooks.payload import job_json

            return {"job": job_json(job, video, self.settings)}

        await self._record(unit, job.client_id, event, data)

    async def export_finished(self, unit: UnitOfWork, job: Job, export: Export) -> None:
        event = EXPORT_STATUS_EVENTS.get(export.status)
        if event is None:
            return
        assets = AssetRepository(unit)
        ids = [i for i in (job.video_asset_id, export.asset_id) if i]
        found = await assets.get_many(ids, client_id=job.client_id)

        def data() -> dict[str, Any]:
            from reelforge.webhooks.payload import export_json, job_json

            video = found.get(job.video_asset_id) if job.video_asset_id else None
            asset = found.get(export.asset_id) if export.asset_id else None
            return {
                "job": job_json(job, video, self.settings),
                "export": export_json(export, asset, self.settings),
            }

        await self._record(unit, job.client_id, event, data)

    async def _record(
        self,
        unit: UnitOfWork,
        client_id: str,
        event: WebhookEvent,
        data: Callable[[], dict[str, Any]],
    ) -> None:
        repo = WebhookRepository(unit.session)
        endpoints = await repo.subscribed_endpoints(client_id, event.value)
        if not endpoints:
            return
        from reelforge.webhooks.payload import event_body

        body = event_body(event, data())
        now = utcnow()
        deliveries = [
            WebhookDelivery(
                endpoint_id=endpoint.id,
                event_type=event.value,
                body=body,
                status=WebhookDeliveryStatus.PENDING.value,
                attempt_count=0,
                next_attempt_at=now,
            )
            for endpoint in endpoints
        ]
        await repo.add_deliveries(deliveries)
        self._recorded.extend(deliveries)
        log.info("webhook.recorded", webhook_event=event.value, endpoints=len(deliveries))

    def discard(self) -> None:
        """The unit rolled back: its deliveries do not exist."""
        self._recorded.clear()

    async def send(self, enqueue: Enqueue) -> None:
        """After the commit: queue every delivery recorded since the last call."""
        recorded, self._recorded = self._recorded, []
        for delivery in recorded:
            try:
                await enqueue_delivery(enqueue, delivery.id, delivery.next_attempt_at or utcnow())
            except Exception as exc:  # the row is committed: the sweep sends it anyway
                log.warning("webhook.enqueue_failed", delivery_id=delivery.id, error=str(exc))
