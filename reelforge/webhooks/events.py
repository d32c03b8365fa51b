"""The events a client can subscribe to, and the state change that raises each."""

from __future__ import annotations

from enum import StrEnum

from reelforge.models import ExportStatus, JobStatus


class WebhookEvent(StrEnum):
    JOB_STORYBOARD_COMPLETE = "job.storyboard_complete"
    JOB_COMPLETED = "job.completed"
    JOB_FAILED = "job.failed"
    JOB_CANCELED = "job.canceled"
    EXPORT_COMPLETED = "export.completed"
    EXPORT_FAILED = "export.failed"


JOB_STATUS_EVENTS: dict[str, WebhookEvent] = {
    JobStatus.STORYBOARD_COMPLETE.value: WebhookEvent.JOB_STORYBOARD_COMPLETE,
    JobStatus.COMPLETED.value: WebhookEvent.JOB_COMPLETED,
    JobStatus.FAILED.value: WebhookEvent.JOB_FAILED,
    JobStatus.CANCELED.value: WebhookEvent.JOB_CANCELED,
}
EXPORT_STATUS_EVENTS: dict[str, WebhookEvent] = {
    ExportStatus.COMPLETED.value: WebhookEvent.EXPORT_COMPLETED,
    ExportStatus.FAILED.value: WebhookEvent.EXPORT_FAILED,
}
