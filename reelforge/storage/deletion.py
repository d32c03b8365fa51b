"""Deleting media: a job's (every object under ``jobs/{job_id}/``, including the normalised
clips that have no row) and one asset's. Rows go first, in their own commit; the objects
after it. A failure between the two leaves objects without rows (harmless, and removed by
the next deletion of the same prefix), never rows without objects."""

from __future__ import annotations

import structlog

from reelforge.storage.blobs import BlobStore

log = structlog.get_logger(__name__)


def job_prefix(job_id: str) -> str:
    return f"jobs/{job_id}/"


async def delete_job_media(blobs: BlobStore, job_id: str, keys: list[str]) -> int:
    """Remove the job's objects: the keys its asset rows named and everything else under
    its prefix. Returns how many objects were removed."""
    outside = [k for k in keys if not k.startswith(job_prefix(job_id))]
    if outside:
        await blobs.delete_many(outside)
    removed = await blobs.delete_prefix(job_prefix(job_id))
    log.info("storage.job_media.deleted", job_id=job_id, objects=removed + len(outside))
    return removed + len(outside)
