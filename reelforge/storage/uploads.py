"""The upload service: one path for the GraphQL mutation and the REST route.

    rate limit ─▶ sniff the first bytes ─▶ stream to a temp file (size cap; sha256 on its
    own thread) ─▶ malware scan (when CLAMAV_URL is set) ─▶ FFmpeg reads the headers and
    decodes the first frame as the sniffed kind ─▶ rename into
    uploads/{client_id}/{asset_id}.{ext} and record the row

Memory stays flat whatever the size: chunks go to disk in blocks of about 1 MiB and the
hash is at most a few blocks behind. The temp file lives on the blob store's filesystem
and is removed on every failure, so a refused, cut-off or failed upload leaves nothing
behind.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import time
import unicodedata
from collections import deque
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import structlog
from starlette.datastructures import UploadFile

from reelforge.auth import Principal
from reelforge.config import Settings
from reelforge.errors import BadUserInput, PayloadTooLarge, ReelforgeError, ServiceUnavailable
from reelforge.media.ffmpeg import AudioInfo, MediaInfo
from reelforge.models import Asset, AssetKind
from reelforge.observability.metrics import UPLOAD_BYTES, UPLOADS
from reelforge.runtime import Runtime
from reelforge.storage.scan import scan_file
from reelforge.storage.service import AssetStore
from reelforge.storage.sniff import SNIFF_BYTES, MediaKind, sniff, verify_media

log = structlog.get_logger(__name__)

WRITE_BLOCK = 1024 * 1024  # bytes gathered before one write (and one hash update) in a thread
HASH_BACKLOG = 8  # blocks the hash may lag behind the stream
READ_CHUNK = 1024 * 1024  # bytes read at a time from a Starlette UploadFile
MAX_FILENAME_CHARS = 255  # assets.original_filename


# Bidirectional embeddings, overrides and isolates: they make "gpj.exe" read "exe.jpg".
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _kept_in_filename(ch: str) -> bool:
    """Every script's letters and marks, and the joiners some scripts need (ZWJ, ZWNJ);
    not control, unassigned, private-use or surrogate code points, nor bidi overrides."""
    category = unicodedata.category(ch)
    if category in {"Cc", "Cs", "Co", "Cn"}:
        return False
    return ch not in _BIDI_CONTROLS


def sanitize_filename(name: str | None) -> str | None:
    """The client's file name as metadata: its last path component, without control
    characters, at most 255 characters. Never used in a path."""
    if not name:
        return None
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if _kept_in_filename(ch)).strip()
    if name in {"", ".", ".."}:
        return None
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            name = stem[: MAX_FILENAME_CHARS - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_FILENAME_CHARS]
    return name


async def upload_chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    """The bytes of a Starlette UploadFile (what Strawberry hands the mutation), read in
    blocks without loading the file in memory."""
    await upload.seek(0)
    while chunk := await upload.read(READ_CHUNK):
        yield chunk


def _is_disk_full(exc: OSError) -> bool:
    return exc.errno in {errno.ENOSPC, errno.EDQUOT}


def _storage_full() -> ServiceUnavailable:
    return ServiceUnavailable("storage is full")


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"uploads are limited to {max_bytes} bytes ({max_bytes / 1024 / 1024:g} MB)",
        maxBytes=max_bytes,
    )


def write_block(f: BinaryIO, block: list[bytes]) -> None:
    """Write one block of chunks (run in a thread)."""
    for chunk in block:
        f.write(chunk)


def _hash_block(digest: hashlib._Hash, block: list[bytes]) -> None:
    for chunk in block:
        digest.update(chunk)


class StreamingHash:
    """sha256 of the blocks in the order they are fed, on a thread of its own (hashlib
    releases the GIL): it keeps pace with the stream without holding it up, at most
    :data:`HASH_BACKLOG` blocks behind, and finishes while FFmpeg checks the file."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="upload-sha256")
        self._pending: deque[asyncio.Future[None]] = deque()

    async def feed(self, block: list[bytes]) -> None:
        loop = asyncio.get_running_loop()
        self._pending.append(loop.run_in_executor(self._thread, _hash_block, self._digest, block))
        while len(self._pending) > HASH_BACKLOG:
            await self._pending.popleft()

    async def hexdigest(self) -> str:
        while self._pending:
            await self._pending.popleft()
        return self._digest.hexdigest()

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)


async def _read_head(
    stream: AsyncIterator[bytes], max_bytes: int
) -> tuple[bytes, list[bytes], int]:
    """Read until :data:`SNIFF_BYTES` are in (or the stream ends)."""
    pending: list[bytes] = []
    size = 0
    while size < SNIFF_BYTES:
        try:
            chunk = await anext(stream)
        except StopAsyncIteration:
            break
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        pending.append(chunk)
    return b"".join(pending)[:SNIFF_BYTES], pending, size


async def _spool(
    path: Path,
    pending: list[bytes],
    stream: AsyncIterator[bytes],
    size: int,
    max_bytes: int,
    digest: StreamingHash,
) -> int:
    """Write the chunks read so far and the rest of ``stream`` to ``path`` (and feed them
    to ``digest``); refuse the upload the moment it passes ``max_bytes``. Returns the size.

    Blocks of about 1 MiB are written in a thread while the next block is being received,
    so about two blocks (plus the hash backlog) are in memory.
    """
    block = list(pending)
    block_bytes = sum(len(c) for c in block)
    writing: asyncio.Future[None] | None = None

    async def flush() -> None:
        nonlocal writing, block, block_bytes
        if writing is not None:
            await writing
        writing = asyncio.ensure_future(asyncio.to_thread(write_block, f, block))
        await digest.feed(block)
        block, block_bytes = [], 0

    try:
        f = await asyncio.to_thread(path.open, "xb")
        try:
            async for chunk in stream:
                size += len(chunk)
                if size > max_bytes:
                    raise _too_large(max_bytes)
                block.append(chunk)
                block_bytes += len(chunk)
                if block_bytes >= WRITE_BLOCK:
                    await flush()
            await flush()
            if writing is not None:
                await writing
        finally:
            if writing is not None:
                # On any failure, let the write in flight finish before closing the file
                # (its own error, if any, is superseded by the one propagating).
                await asyncio.wait([writing])
                if not writing.cancelled():
                    writing.exception()
            await asyncio.to_thread(f.close)
    except OSError as exc:
        if _is_disk_full(exc):
            raise _storage_full() from exc
        raise
    # The real size on disk, whatever the transport said along the way.
    real_size = (await asyncio.to_thread(path.stat)).st_size
    if real_size != size:
        raise ServiceUnavailable("the upload could not be written completely; try again")
    if real_size > max_bytes:
        raise _too_large(max_bytes)
    return size


async def _check(settings: Settings, path: Path, kind: MediaKind) -> MediaInfo | AudioInfo | None:
    if settings.clamav_url:
        await scan_file(settings.clamav_url, path)
    return await verify_media(path, kind)


async def _receive(
    runtime: Runtime,
    principal: Principal,
    chunks: AsyncIterator[bytes],
    filename: str | None,
) -> Asset:
    settings = runtime.settings
    max_bytes = settings.max_upload_bytes
    head, pending, size = await _read_head(chunks, max_bytes)
    if not head:
        raise BadUserInput("the file is empty")
    kind = sniff(head)  # before anything touches the disk
    digest = StreamingHash()
    with runtime.blobs.temp_path(f".{kind.ext}") as tmp:
        try:
            await _spool(tmp, pending, chunks, size, max_bytes, digest)
            del pending
            # The malware scan and FFmpeg check the file while the hash catches up.
            checking = asyncio.ensure_future(_check(settings, tmp, kind))
            try:
                sha256 = await digest.hexdigest()
                info = await checking
            finally:
                if not checking.done():
                    checking.cancel()
                    await asyncio.wait([checking])
        finally:
            digest.close()
        try:
            async with runtime.unit() as unit:
                return await AssetStore(unit, runtime.blobs).store_file(
                    tmp,
                    client_id=principal.client_id,
                    job_id=None,
                    kind=AssetKind.UPLOAD,
                    content_type=kind.content_type,
                    original_filename=sanitize_filename(filename),
                    sha256=sha256,
                    info=info,
                )
        except OSError as exc:
            if _is_disk_full(exc):
                raise _storage_full() from exc
            raise


async def receive_upload(
    runtime: Runtime,
    principal: Principal,
    chunks: AsyncIterator[bytes],
    *,
    filename: str | None,
) -> Asset:
    """Validate, store and record one uploaded file for ``principal``.

    Raises RATE_LIMITED (``settings.upload_rate_limit`` per user), PAYLOAD_TOO_LARGE (over
    ``settings.max_upload_bytes``, checked while streaming), UNSUPPORTED_MEDIA_TYPE
    (anything but a readable jpg, png, mp4, mov, mp3, wav or m4a; malware), BAD_USER_INPUT
    (empty) and SERVICE_UNAVAILABLE (storage full, scanner down).
    """
    started = time.perf_counter()
    outcome = "aborted"
    try:
        await runtime.limiter.hit(
            runtime.settings.upload_rate_limit, "upload", principal.client_id, principal.user_id
        )
        asset = await _receive(runtime, principal, chunks, filename)
        outcome = "accepted"
    except ReelforgeError as exc:
        outcome = exc.code.value
        log.info(
            "upload.rejected",
            code=exc.code.value,
            reason=exc.message,
            client_id=principal.client_id,
            user_id=principal.user_id,
        )
        raise
    finally:
        UPLOADS.labels(outcome=outcome).inc()
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()
    UPLOAD_BYTES.inc(asset.size_bytes)
    log.info(
        "upload.accepted",
        asset_id=asset.id,
        client_id=asset.client_id,
        user_id=principal.user_id,
        content_type=asset.content_type,
        size_bytes=asset.size_bytes,
        seconds=round(time.perf_counter() - started, 3),
    )
    return asset
