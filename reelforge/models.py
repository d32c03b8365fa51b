"""ORM tables (DESIGN.md section 3). Relationships are `lazy="raise"`: a missing eager load
fails loudly in tests instead of slowly in production."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    FetchedValue,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from reelforge.db import Base


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def as_utc_iso(value: datetime | None) -> str | None:
    return None if value is None else as_utc(value).isoformat()


Money = Numeric(12, 6, asdecimal=False)


class JobStatus(StrEnum):
    PENDING = "pending"
    GENERATING_STORYBOARD = "generating_storyboard"
    STORYBOARD_COMPLETE = "storyboard_complete"
    RENDERING = "rendering"
    STITCHING = "stitching"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED})


class AssetKind(StrEnum):
    UPLOAD = "upload"
    IMAGE = "image"
    CLIP = "clip"
    VIDEO = "video"
    AUDIO = "audio"  # a voice-over line or a music bed
    CAPTIONS = "captions"  # .srt / .vtt of a video
    THUMBNAIL = "thumbnail"
    EXPORT = "export"


class PredictionStatus(StrEnum):
    CREATING = "creating"  # recorded before the create call: never paid for twice
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class ExportStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(String(128), index=True)
    user_id: Mapped[str] = mapped_column(String(128))
    campaign_id: Mapped[str | None] = mapped_column(String(128), index=True)
    prompt: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(32), default=JobStatus.PENDING.value, index=True)
    stage: Mapped[str | None] = mapped_column(String(32))
    storyboard_version: Mapped[int] = mapped_column(Integer, default=0)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(String(128))
    video_asset_id: Mapped[str | None] = mapped_column(String(36))
    thumbnail_asset_id: Mapped[str | None] = mapped_column(String(36))
    # The finished video's captions, as WebVTT and SubRip files.
    captions_vtt_asset_id: Mapped[str | None] = mapped_column(String(36))
    captions_srt_asset_id: Mapped[str | None] = mapped_column(String(36))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.current_timestamp()
    )
    # v2 (migration 0002)
    progress: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    storyboard_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    approved: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    estimated_cost: Mapped[float | None] = mapped_column(Money)
    actual_cost: Mapped[float] = mapped_column(Money, default=0.0, server_default="0")
    retry_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error_message: Mapped[str | None] = mapped_column(Text)
    # v3 (migration 0003): what this job holds reserved of its client's daily budget
    reserved_cost: Mapped[float] = mapped_column(Money, default=0.0, server_default="0")
    reserved_on: Mapped[str | None] = mapped_column(String(10))
    # Kept by a database trigger on both dialects; the ORM re-reads it after each write.
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True),
        default=utcnow,
        server_default=func.current_timestamp(),
        server_onupdate=FetchedValue(),
    )

    __table_args__ = (
        Index("ix_jobs_client_created", "client_id", "created_at", "id"),
        Index("ix_jobs_status_updated", "status", "updated_at"),
    )
    __mapper_args__ = {"eager_defaults": True}


class Asset(Base):
    __tablename__ = "assets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(String(128), index=True)
    job_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("jobs.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(512), unique=True)
    original_filename: Mapped[str | None] = mapped_column(String(255))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    # Measured audio loudness (EBU R128) of a video or an export: LUFS and dBTP.
    loudness_lufs: Mapped[float | None] = mapped_column(Float)
    true_peak_db: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.current_timestamp()
    )


class Prediction(Base):
    __tablename__ = "predictions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    job_id: Mapped[str] = mapped_column(String(36), ForeignKey("jobs.id", ondelete="CASCADE"))
    scene_index: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(255))
    input_hash: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    predict_time: Mapped[float | None] = mapped_column(Float)
    cost: Mapped[float] = mapped_column(Money, default=0.0)
    error: Mapped[str | None] = mapped_column(Text)
    output_asset_id: Mapped[str | None] = mapped_column(String(36))
    output: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # non-file results (the plan)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.current_timestamp()
    )
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_predictions_input_hash_status", "input_hash", "status"),
        Index("ix_predictions_job_id", "job_id"),
    )


class Export(Base):
    __tablename__ = "exports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    job_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("jobs.id", ondelete="CASCADE"), index=True
    )
    format: Mapped[dict[str, Any]] = mapped_column(JSON)
    format_key: Mapped[str] = mapped_column(String(64))
    source_asset_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16), default=ExportStatus.QUEUED.value)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    asset_id: Mapped[str | None] = mapped_column(String(36))
    error: Mapped[str | None] = mapped_column(Text)
    # A platform export's file measured against its platform's rules: one entry per rule,
    # {"rule", "passed", "limit", "actual"} (migration 0006).
    platform_checks: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.current_timestamp()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True),
        default=utcnow,
        onupdate=utcnow,
        server_default=func.current_timestamp(),
    )

    __table_args__ = (Index("ix_exports_status_updated", "status", "updated_at"),)


class BrandKit(Base):
    """A client's brand: logo, colours, font and call to action, reused by its jobs
    (migration 0006). Jobs keep a copy of it (params.brand)."""

    __tablename__ = "brand_kits"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(String(128), index=True)
    name: Mapped[str] = mapped_column(String(100))
    logo_asset_id: Mapped[str | None] = mapped_column(String(36))
    font_asset_id: Mapped[str | None] = mapped_column(String(36))
    primary_color: Mapped[str] = mapped_column(String(7))
    secondary_color: Mapped[str] = mapped_column(String(7))
    call_to_action: Mapped[str | None] = mapped_column(String(60))
    logo_corner: Mapped[str] = mapped_column(String(16))
    logo_opacity: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.current_timestamp()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True),
        default=utcnow,
        onupdate=utcnow,
        server_default=func.current_timestamp(),
    )


class JobEvent(Base):
    __tablename__ = "job_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("jobs.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(32))
    message: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(128))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.current_timestamp()
    )


class WebhookDeliveryStatus(StrEnum):
    PENDING = "pending"  # due at next_attempt_at (a claimed one: once its lease runs out)
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # gave up: retries exhausted, or the endpoint was disabled or deleted


class WebhookEndpoint(Base):
    """A client's URL that receives signed job events (outgoing webhooks)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(String(128), index=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(Text)
    # The signing key must be readable to sign with it (HMAC is symmetric), as with every
    # Standard Webhooks sender; it is shown to the client once, at creation and rotation.
    secret: Mapped[str] = mapped_column(String(128))
    previous_secret: Mapped[str | None] = mapped_column(String(128))  # also signs until...
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.current_timestamp()
    )


class WebhookDelivery(Base):
    """One event for one endpoint: the source of truth for sending it, retried until it
    succeeds or gives up. Its id is the `webhook-id` of every attempt."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    endpoint_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)  # the exact JSON sent (and signed) every time
    status: Mapped[str] = mapped_column(String(16), default=WebhookDeliveryStatus.PENDING.value)
    attempt_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_response_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.current_timestamp()
    )
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at", "id"),
        Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
    )


class WebhookAttempt(Base):
    """One HTTP attempt of a delivery: what the receiver answered and how long it took."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(32))
    response_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BudgetDay(Base):
    """A client's committed spend for one UTC day: estimates reserved by work in flight plus
    what finished work cost. Reserved with one conditional UPDATE (see JobRepository)."""

    __tablename__ = "budget_days"

    client_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    committed: Mapped[float] = mapped_column(Money, default=0.0, server_default="0")
