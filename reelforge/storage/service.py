"""Storing media as assets: one function for generated outputs and uploads alike. The blob
goes to a generated key first, the row is flushed after in the caller's unit of work, so a
row never points at nothing; a failure, or a rollback of that unit, removes the blob."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from reelforge.db import UnitOfWork
from reelforge.media.audio import Loudness
from reelforge.media.ffmpeg import AudioInfo, MediaInfo, probe, probe_audio
from reelforge.models import Asset, AssetKind, new_id
from reelforge.storage.blobs import BlobStore
from reelforge.storage.repository import AssetRepository

EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "audio/mpeg": "mp3",
    "audio/wav": "wav",
    "audio/mp4": "m4a",
    "text/vtt": "vtt",
    "application/x-subrip": "srt",
    "font/ttf": "ttf",
    "font/otf": "otf",
}
CONTENT_TYPES = {ext: content_type for content_type, ext in EXTENSIONS.items()}


def storage_key(
    *, client_id: str, job_id: str | None, kind: AssetKind, asset_id: str, ext: str
) -> str:
    if kind is AssetKind.UPLOAD or job_id is None:
        return f"uploads/{client_id}/{asset_id}.{ext}"
    return f"jobs/{job_id}/{kind.value}/{asset_id}.{ext}"


def _sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class AssetStore:
    def __init__(self, unit: UnitOfWork, blobs: BlobStore) -> None:
        self.unit = unit
        self.repo = AssetRepository(unit)
        self.blobs = blobs

    async def store_file(
        self,
        path: Path,
        *,
        client_id: str,
        job_id: str | None,
        kind: AssetKind,
        content_type: str,
        original_filename: str | None = None,
        sha256: str | None = None,
        asset_id: str | None = None,
        info: MediaInfo | AudioInfo | None = None,
        loudness: Loudness | None = None,
    ) -> Asset:
        """Move `path` (a temp file on the blob store) into place and record it. `info` is
        the file's probe when the caller already has it (uploads are probed to validate);
        `loudness`, the measured loudness of a video's soundtrack."""
        width = height = None
        duration = None
        if content_type.startswith(("image/", "video/")):
            if not isinstance(info, MediaInfo):
                info = await probe(path)
            width, height = info.width, info.height
            duration = info.duration_seconds if content_type.startswith("video/") else None
        elif content_type.startswith("audio/"):
            if not isinstance(info, AudioInfo):
                info = await probe_audio(path)
            duration = info.duration_seconds
        if sha256 is None:
            sha256, size = await asyncio.to_thread(_sha256, path)
        else:
            size = (await asyncio.to_thread(path.stat)).st_size
        asset_id = asset_id or new_id()
        key = storage_key(
            client_id=client_id,
            job_id=job_id,
            kind=kind,
            asset_id=asset_id,
            ext=EXTENSIONS.get(content_type, "bin"),
        )
        await self.blobs.put_file(key, path, content_type=content_type)
        asset = Asset(
            id=asset_id,
            client_id=client_id,
            job_id=job_id,
            kind=kind.value,
            content_type=content_type,
            size_bytes=size,
            sha256=sha256,
            storage_key=key,
            original_filename=original_filename,
            width=width,
            height=height,
            duration_seconds=duration,
            loudness_lufs=loudness.integrated if loudness else None,
            true_peak_db=loudness.true_peak if loudness else None,
        )
        try:
            await self.repo.add(asset)
        except BaseException:
            await self.blobs.delete(key)
            raise
        blobs = self.blobs

        async def remove_blob() -> None:
            await blobs.delete(key)

        self.unit.on_rollback(remove_blob)
        return asset

    async def store_bytes(
        self, data: bytes, *, client_id: str, job_id: str | None, kind: AssetKind, content_type: str
    ) -> Asset:
        ext = EXTENSIONS.get(content_type, "bin")
        with self.blobs.temp_path(f".{ext}") as tmp:
            await asyncio.to_thread(tmp.write_bytes, data)
            return await self.store_file(
                tmp, client_id=client_id, job_id=job_id, kind=kind, content_type=content_type
            )
