"""Optional malware scanning of uploads with clamd's INSTREAM command (CLAMAV_URL).

    zINSTREAM\\0  then chunks of <4-byte big-endian length><data>, then a zero length;
    clamd answers "stream: OK", "stream: <signature> FOUND" or "<reason> ERROR".

It fails closed: when clamd cannot be reached or cannot scan, the upload is refused with
SERVICE_UNAVAILABLE rather than accepted unscanned. clamd's StreamMaxLength (25 MB by
default) must be at least MAX_UPLOAD_BYTES.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import structlog

from reelforge.errors import ServiceUnavailable, UnsupportedMediaType

log = structlog.get_logger(__name__)

CHUNK_BYTES = 256 * 1024


@dataclass(frozen=True)
class ScanResult:
    clean: bool
    signature: str | None = None  # the malware found


def _parse_reply(reply: bytes) -> ScanResult:
    text = reply.rstrip(b"\0\n").decode("utf-8", errors="replace")
    _, _, verdict = text.partition(": ")
    verdict = verdict or text
    if verdict == "OK":
        return ScanResult(clean=True)
    if verdict.endswith(" FOUND"):
        return ScanResult(clean=False, signature=verdict.removesuffix(" FOUND"))
    raise ServiceUnavailable("the malware scanner could not scan the file", reason=text[:200])


async def _open(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    parts = urlsplit(url)
    if parts.scheme == "tcp" and parts.hostname and parts.port:
        return await asyncio.open_connection(parts.hostname, parts.port)
    if parts.scheme == "unix" and parts.path:
        return await asyncio.open_unix_connection(parts.path)
    raise ValueError(f"CLAMAV_URL must be tcp://host:port or unix:///path, not {url!r}")


async def _send_file(writer: asyncio.StreamWriter, path: Path) -> None:
    f = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(f.read, CHUNK_BYTES):
            writer.write(struct.pack("!I", len(chunk)) + chunk)
            await writer.drain()
    finally:
        await asyncio.to_thread(f.close)
    writer.write(struct.pack("!I", 0))
    await writer.drain()


async def _instream(url: str, path: Path) -> bytes:
    reader, writer = await _open(url)
    try:
        writer.write(b"zINSTREAM\0")
        # clamd hangs up early when the stream passes its StreamMaxLength; its reply
        # (if any) says why.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            await _send_file(writer, path)
        try:
            return await reader.readuntil(b"\0")
        except asyncio.IncompleteReadError as exc:
            return exc.partial
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def scan_file(url: str, path: Path, *, timeout: float = 120.0) -> ScanResult:
    """Stream ``path`` to clamd at ``url``; UNSUPPORTED_MEDIA_TYPE when malware is found."""
    try:
        async with asyncio.timeout(timeout):
            reply = await _instream(url, path)
    except (OSError, TimeoutError, asyncio.LimitOverrunError) as exc:
        log.warning("upload.scan.unavailable", error=f"{type(exc).__name__}: {exc}")
        raise ServiceUnavailable("the malware scanner is unavailable; try again later") from exc
    result = _parse_reply(reply)
    if not result.clean:
        log.warning("upload.scan.found", signature=result.signature)
        raise UnsupportedMediaType("rejected by malware scan")
    return result
