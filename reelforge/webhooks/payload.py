"""The body of an event: `{"type", "timestamp", "data": {"job": …}}`, the job (and export)
exactly as the GraphQL API shows it: the same field names and values as a `job(id)` query
selecting every plain field, its scenes, and `videoUrl`.

Built from the schema's own types, so a field added to `Job` or `Scene` appears in the
webhooks too. Imported lazily by the outbox: the schema imports the job service, which is
below this package."""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum
from typing import Any

from strawberry.types.base import get_object_definition
from strawberry.types.field import StrawberryField
from strawberry.types.private import is_private
from strawberry.utils.str_converters import to_camel_case

from reelforge.config import Settings
from reelforge.models import Asset as AssetRow
from reelforge.models import Export as ExportRow
from reelforge.models import Job as JobRow
from reelforge.models import utcnow
from reelforge.schema.types import Export, Job
from reelforge.storage.signing import signed_asset_url
from reelforge.webhooks.events import WebhookEvent


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.name  # GraphQL shows an enum by its name
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if get_object_definition(type(value)) is not None:
        return api_fields(value)
    return value


def _shown(field: StrawberryField) -> bool:
    """A field the API shows as stored: no resolver, not `strawberry.Private`."""
    annotation = field.type_annotation
    private = annotation is not None and is_private(annotation.evaluate())
    return field.base_resolver is None and not private


def api_fields(obj: object) -> dict[str, Any]:
    """A Strawberry object's plain fields, by GraphQL name, as the API serialises them."""
    definition = get_object_definition(type(obj), strict=True)
    return {
        field.graphql_name or to_camel_case(field.python_name): _plain(
            getattr(obj, field.python_name)
        )
        for field in definition.fields
        if _shown(field)
    }


def job_json(row: JobRow, video: AssetRow | None, settings: Settings) -> dict[str, Any]:
    job = Job.from_row(row)
    return {
        **api_fields(job),
        "scenes": [api_fields(scene) for scene in job.scenes()],
        "videoUrl": signed_asset_url(settings, video) if video else None,
    }


def export_json(row: ExportRow, asset: AssetRow | None, settings: Settings) -> dict[str, Any]:
    return {
        **api_fields(Export.from_row(row)),
        "url": signed_asset_url(settings, asset) if asset else None,
    }


def event_body(event: WebhookEvent, data: dict[str, Any]) -> str:
    """The JSON text sent (and signed) on every attempt of the event."""
    return json.dumps(
        {"type": event.value, "timestamp": utcnow().isoformat(), "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
    )
