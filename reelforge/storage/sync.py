"""Copying media between stores: ``reelforge storage migrate --to s3://…`` (the local folder
to object storage) and ``reelforge storage sync --from … --to …`` (backups of a bucket to a
folder or another bucket, and back).

Idempotent and resumable: an object already at the destination with the same size is
skipped, so a second run copies nothing and a run cut short picks up where it stopped.
Each object is written atomically (a rename for a folder, a single PUT or a completed
multipart upload for S3): an interrupted copy never leaves a partial object to be skipped
next time. Keys are the same on both sides, so the database needs no change: point
STORAGE_URL at the destination and restart.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import structlog

from reelforge.storage.blobs import MEDIA_PREFIXES, BlobInfo, BlobStore
from reelforge.storage.service import CONTENT_TYPES

log = structlog.get_logger(__name__)

COPY_CONCURRENCY = 4


@dataclass
class SyncReport:
    copied: int = 0
    skipped: int = 0
    bytes_copied: int = 0
    failed: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = (
            f"copied {self.copied} objects ({self.bytes_copied / 1e6:.1f} MB), "
            f"skipped {self.skipped} already there"
        )
        if self.failed:
            text += f", {len(self.failed)} failed (run again to retry them)"
        return text


def _content_type(key: str) -> str | None:
    return CONTENT_TYPES.get(key.rsplit(".", 1)[-1].lower())


async def copy_object(source: BlobStore, target: BlobStore, key: str) -> None:
    async with source.local(key) as path:
        await target.put_file(key, path, content_type=_content_type(key), move=False)


async def sync_stores(
    source: BlobStore,
    target: BlobStore,
    *,
    prefixes: tuple[str, ...] = MEDIA_PREFIXES,
    concurrency: int = COPY_CONCURRENCY,
) -> SyncReport:
    """Copy every media object of ``source`` that ``target`` lacks (or holds with another
    size) to ``target``. Nothing is deleted on either side."""
    report = SyncReport()
    limit = asyncio.Semaphore(concurrency)

    async def one(info: BlobInfo) -> None:
        try:
            if await target.size(info.key) == info.size:
                report.skipped += 1
                return
            try:
                await copy_object(source, target, info.key)
            except Exception as exc:  # one object's failure must not stop the others
                log.warning("storage.sync.failed", key=info.key, error=str(exc))
                report.failed.append(info.key)
                return
            report.copied += 1
            report.bytes_copied += info.size
            if report.copied % 100 == 0:
                log.info("storage.sync.progress", copied=report.copied, skipped=report.skipped)
        finally:
            limit.release()

    tasks: set[asyncio.Task[None]] = set()
    for prefix in prefixes:
        async for info in source.list(prefix):
            await limit.acquire()  # at most `concurrency` copies in flight
            task = asyncio.create_task(one(info))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    log.info(
        "storage.sync.done",
        source=source.url,
        target=target.url,
        copied=report.copied,
        skipped=report.skipped,
        failed=len(report.failed),
        bytes=report.bytes_copied,
    )
    return report
