"""Uploads through POST /api/v2/upload-asset (and the service the GraphQL mutation uses):
content-sniffed types, streamed size limit, part limit, safe names, rate limit, full disk,
malware scan."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import struct
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from tempfile import SpooledTemporaryFile
from typing import BinaryIO, cast

import httpx
import pytest
from starlette.datastructures import Headers, UploadFile

from reelforge.auth import Principal
from reelforge.errors import PayloadTooLarge
from reelforge.ratelimit import RateLimiter
from reelforge.runtime import Runtime
from reelforge.storage import uploads
from reelforge.storage.blobs import LocalBlobStore
from reelforge.storage.uploads import receive_upload, sanitize_filename, upload_chunks
from tests.storage.conftest import (
    BOUNDARY,
    CLIENT,
    MULTIPART,
    Media,
    bearer,
    client_for,
    file_part_head,
    multipart_body,
    stored_files,
    upload,
)

MB = 1024 * 1024


def padded_mp4(mp4: bytes, size: int) -> bytes:
    """A valid mp4 of exactly `size` bytes: `mp4` followed by a `free` box."""
    padding = size - len(mp4)
    return mp4 + struct.pack(">I", padding) + b"free" + bytes(padding - 8)


@pytest.mark.parametrize(
    ("kind", "content_type", "duration"),
    [
        ("jpg", "image/jpeg", None),
        ("png", "image/png", None),
        ("mp4", "video/mp4", 1.0),
        ("mov", "video/quicktime", 1.0),
    ],
)
async def test_valid_media_is_accepted_and_served_back_identical(
    client: httpx.AsyncClient,
    runtime: Runtime,
    media: Media,
    kind: str,
    content_type: str,
    duration: float | None,
) -> None:
    data: bytes = getattr(media, kind)
    # The client's name and type are ignored: the content decides.
    response = await upload(client, runtime.settings, data, filename="clip.txt")
    assert response.status_code == 201, response.text
    asset = response.json()
    assert asset["contentType"] == content_type
    assert (asset["width"], asset["height"]) == (64, 48)
    assert asset["sizeBytes"] == len(data)
    assert asset["sha256"] == hashlib.sha256(data).hexdigest()
    assert asset["originalFilename"] == "clip.txt"
    if duration is None:
        assert asset["durationSeconds"] is None
    else:
        assert asset["durationSeconds"] == pytest.approx(duration, abs=0.05)
    assert response.headers["location"] == f"/api/v2/assets/{asset['id']}"

    served = await client.get(f"/api/v2/assets/{asset['id']}", headers=bearer(runtime.settings))
    assert served.status_code == 200
    assert served.content == data
    assert served.headers["content-type"] == content_type
    assert served.headers["etag"] == f'"{asset["sha256"]}"'
    assert served.headers["accept-ranges"] == "bytes"

    by_url = await client.get(asset["url"])
    assert by_url.status_code == 200
    assert by_url.content == data

    assert await runtime.blobs.read_bytes(f"uploads/{CLIENT}/{asset['id']}.{kind}") == data


ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(56) + b"\x00" * 4000
REJECTED = {
    "html": ("photo.jpg", "image/jpeg", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
    "svg": (
        "logo.png",
        "image/png",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    ),
    "elf": ("clip.mp4", "video/mp4", ELF),
    "hls": (
        "clip.mp4",
        "video/mp4",
        b"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n",
    ),
    "ffconcat": ("clip.mov", "video/quicktime", b"ffconcat version 1.0\nfile '/etc/passwd'\n"),
    "heif": (
        "photo.jpg",
        "image/jpeg",
        struct.pack(">I", 24) + b"ftypheic\0\0\0\0mif1heic" + bytes(64),
    ),
}


@pytest.mark.parametrize("name", sorted(REJECTED))
async def test_renamed_non_media_is_unsupported(
    client: httpx.AsyncClient, runtime: Runtime, name: str
) -> None:
    filename, content_type, data = REJECTED[name]
    response = await upload(
        client, runtime.settings, data, filename=filename, content_type=content_type
    )
    assert response.status_code == 415, response.text
    assert response.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert stored_files(runtime.settings.video_storage_path) == []


async def test_valid_header_over_garbage_fails_the_decode(
    client: httpx.AsyncClient, runtime: Runtime, media: Media
) -> None:
    for data in (
        media.jpg[:300] + os.urandom(3000),  # a JPEG start, then noise
        media.mp4[:64] + os.urandom(3000),  # an mp4 ftyp box, then noise
        media.png[:100],  # a truncated PNG
    ):
        response = await upload(client, runtime.settings, data)
        assert response.status_code == 415, response.text
        assert response.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert stored_files(runtime.settings.video_storage_path) == []


async def test_empty_file_and_missing_field_are_bad_input(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    empty = await upload(client, runtime.settings, b"")
    assert empty.status_code == 400
    assert empty.json()["error"]["code"] == "BAD_USER_INPUT"
    missing = await client.post(
        "/api/v2/upload-asset",
        content=multipart_body(None, fields=2),
        headers={"content-type": MULTIPART, **bearer(runtime.settings)},
    )
    assert missing.status_code == 400
    assert "file" in missing.json()["error"]["message"]
    not_multipart = await client.post(
        "/api/v2/upload-asset", content=b"{}", headers=bearer(runtime.settings)
    )
    assert not_multipart.status_code == 400


async def test_upload_needs_a_token(
    client: httpx.AsyncClient, runtime: Runtime, media: Media
) -> None:
    response = await client.post(
        "/api/v2/upload-asset",
        content=multipart_body(media.png),
        headers={"content-type": MULTIPART},
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"


async def test_file_over_the_limit_is_413_and_leaves_nothing(
    client: httpx.AsyncClient, runtime: Runtime, media: Media
) -> None:
    limit = runtime.settings.max_upload_bytes
    over = padded_mp4(media.mp4, limit + 1)
    response = await upload(client, runtime.settings, over, filename="big.mp4")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert stored_files(runtime.settings.video_storage_path) == []
    # Exactly at the limit passes.
    accepted = await upload(client, runtime.settings, padded_mp4(media.mp4, limit))
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["sizeBytes"] == limit


class CountingBody:
    """A multipart body whose file is `file_start` padded with zeros to `file_size` bytes,
    streamed in 64 KiB chunks; records how much of it the server pulled."""

    CHUNK = 64 * 1024

    def __init__(self, file_start: bytes, file_size: int) -> None:
        self.head = file_part_head("big.png") + file_start
        self.padding = file_size - len(file_start)
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.sent += len(self.head)
        yield self.head
        zeros = bytes(self.CHUNK)
        remaining = self.padding
        while remaining > 0:
            chunk = zeros[: min(self.CHUNK, remaining)]
            remaining -= len(chunk)
            self.sent += len(chunk)
            yield chunk
        tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.sent += len(tail)
        yield tail


@pytest.mark.slow
@pytest.mark.parametrize("content_length", ["1000", None], ids=["lying-length", "chunked"])
async def test_50mb_plus_one_is_cut_off_while_streaming(
    make_runtime: Callable[..., Awaitable[Runtime]], media: Media, content_length: str | None
) -> None:
    runtime = await make_runtime(max_upload_bytes=50 * MB)
    assert runtime.settings.max_upload_bytes == 50 * 1024 * 1024
    body = CountingBody(media.png, 50 * MB + 1)
    headers = {"content-type": MULTIPART, **bearer(runtime.settings)}
    if content_length is not None:
        headers["content-length"] = content_length
    async with client_for(runtime) as client:
        response = await client.post("/api/v2/upload-asset", content=body, headers=headers)
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert response.headers["connection"] == "close"
    # Cut off right after the limit: the rest of the body was never read.
    assert body.sent <= len(body.head) + 50 * MB + CountingBody.CHUNK
    assert stored_files(runtime.settings.video_storage_path) == []


async def test_declared_length_over_the_limit_is_refused_before_reading(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(40):
            pulled += 64 * 1024
            yield bytes(64 * 1024)

    response = await client.post(
        "/api/v2/upload-asset",
        content=body(),
        headers={
            "content-type": MULTIPART,
            "content-length": str(40 * 64 * 1024),
            **bearer(runtime.settings),
        },
    )
    assert response.status_code == 413
    assert pulled == 0


async def test_more_than_1000_parts_is_bad_input(
    client: httpx.AsyncClient, runtime: Runtime, media: Media
) -> None:
    headers = {"content-type": MULTIPART, **bearer(runtime.settings)}
    too_many = await client.post(
        "/api/v2/upload-asset", content=multipart_body(media.png, fields=1000), headers=headers
    )
    assert too_many.status_code == 400, too_many.text
    assert too_many.json()["error"]["code"] == "BAD_USER_INPUT"
    assert "parts" in too_many.json()["error"]["message"]
    assert stored_files(runtime.settings.video_storage_path) == []

    exactly_1000 = await client.post(
        "/api/v2/upload-asset", content=multipart_body(media.png, fields=999), headers=headers
    )
    assert exactly_1000.status_code == 201, exactly_1000.text


async def test_parts_after_the_file_are_still_counted(
    client: httpx.AsyncClient, runtime: Runtime, media: Media
) -> None:
    response = await client.post(
        "/api/v2/upload-asset",
        content=multipart_body(media.png, fields_after=1000),
        headers={"content-type": MULTIPART, **bearer(runtime.settings)},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "BAD_USER_INPUT"
    assert stored_files(runtime.settings.video_storage_path) == []


async def test_path_traversal_filename_is_only_metadata(
    client: httpx.AsyncClient, runtime: Runtime, media: Media
) -> None:
    response = await upload(client, runtime.settings, media.png, filename="../../etc/passwd")
    assert response.status_code == 201, response.text
    asset = response.json()
    assert asset["originalFilename"] == "passwd"
    root = runtime.settings.video_storage_path
    files = stored_files(root)
    assert files == [root.resolve() / "uploads" / CLIENT / f"{asset['id']}.png"]
    uuid.UUID(asset["id"])  # a generated id, not the client's name
    assert not (root.parent / "etc").exists()


def test_sanitize_filename() -> None:
    assert sanitize_filename("../../etc/passwd") == "passwd"
    assert sanitize_filename("C:\\Users\\me\\clip.mov") == "clip.mov"
    assert sanitize_filename("a\x00b\r\n\u202ec.png") == "abc.png"
    assert sanitize_filename("..") is None
    assert sanitize_filename("") is None
    long = "x" * 300 + ".jpeg"
    cleaned = sanitize_filename(long)
    assert cleaned is not None
    assert len(cleaned) == 255
    assert cleaned.endswith(".jpeg")


async def _rate_limit_scenario(runtime: Runtime, media: Media) -> None:
    async with client_for(runtime) as client:
        first_ten = await asyncio.gather(
            *(upload(client, runtime.settings, media.png) for _ in range(10))
        )
        assert [r.status_code for r in first_ten] == [201] * 10, [r.text for r in first_ten]
        eleventh = await upload(client, runtime.settings, media.png)
        assert eleventh.status_code == 429
        error = eleventh.json()["error"]
        assert error["code"] == "RATE_LIMITED"
        assert 1 <= error["retryAfter"] <= 60
        assert eleventh.headers["retry-after"] == str(error["retryAfter"])
        # Per user: another user of the same client still uploads.
        other = await upload(client, runtime.settings, media.png, user_id="user-2")
        assert other.status_code == 201


async def test_eleventh_upload_in_a_minute_is_rate_limited(runtime: Runtime, media: Media) -> None:
    await _rate_limit_scenario(runtime, media)


async def test_rate_limit_against_real_redis(
    make_runtime: Callable[..., Awaitable[Runtime]], media: Media, redis_url: str
) -> None:
    """On the Redis protocol: embedded Valkey locally, the Redis on localhost with CI=true."""
    limiter = RateLimiter.for_redis_url(redis_url, key_prefix=f"reelforge-test-{uuid.uuid4().hex}")
    try:
        await _rate_limit_scenario(await make_runtime(limiter=limiter), media)
    finally:
        await limiter.reset()
        await limiter.aclose()


async def test_full_disk_is_a_clear_error_and_leaves_no_partial_file(
    client: httpx.AsyncClient,
    runtime: Runtime,
    media: Media,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def disk_full(f: BinaryIO, block: list[bytes]) -> None:
        f.write(block[0][: len(block[0]) // 2])
        f.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(uploads, "write_block", disk_full)
    response = await upload(client, runtime.settings, media.mp4)
    assert response.status_code == 503
    assert response.json()["error"] == {
        "code": "SERVICE_UNAVAILABLE",
        "message": "storage is full",
    }
    assert stored_files(runtime.settings.video_storage_path) == []


async def test_graphql_upload_file_goes_through_the_same_service(
    runtime: Runtime, media: Media
) -> None:
    principal = Principal(client_id=CLIENT, user_id="user-1")
    with SpooledTemporaryFile(max_size=1024) as spooled:
        spooled.write(media.mov)  # rolled over to disk, like a real form() upload
        file = UploadFile(
            cast(BinaryIO, spooled),
            filename="../holiday.mov",
            headers=Headers({"content-type": "text/html"}),
        )
        asset = await receive_upload(
            runtime, principal, upload_chunks(file), filename=file.filename
        )
    assert asset.content_type == "video/quicktime"
    assert asset.original_filename == "holiday.mov"
    assert asset.storage_key == f"uploads/{CLIENT}/{asset.id}.mov"
    assert asset.size_bytes == len(media.mov)

    # The service re-checks the real size, whatever let the file through.
    with SpooledTemporaryFile(max_size=1024) as big:
        big.write(padded_mp4(media.mp4, runtime.settings.max_upload_bytes + 1))
        with pytest.raises(PayloadTooLarge):
            await receive_upload(
                runtime, principal, upload_chunks(UploadFile(cast(BinaryIO, big))), filename="x.mp4"
            )
    assert isinstance(runtime.blobs, LocalBlobStore)
    assert stored_files(runtime.settings.video_storage_path) == [
        runtime.blobs.path(asset.storage_key)
    ]


async def test_temp_files_are_removed_after_each_upload(
    client: httpx.AsyncClient, runtime: Runtime, media: Media
) -> None:
    for data in (media.png, b"<html>", media.jpg[:200] + bytes(500)):
        await upload(client, runtime.settings, data)
    assert runtime.blobs.scratch.files() == []


# --- malware scanning against a tiny fake clamd ---------------------------------------------


class FakeClamd:
    """Speaks clamd's INSTREAM protocol; anything containing MALWARE_MARK is infected."""

    MALWARE_MARK = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

    def __init__(self) -> None:
        self.scanned: list[bytes] = []
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"tcp://{host}:{port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        command = await reader.readuntil(b"\0")
        assert command == b"zINSTREAM\0"
        data = bytearray()
        while size := struct.unpack("!I", await reader.readexactly(4))[0]:
            data += await reader.readexactly(size)
        self.scanned.append(bytes(data))
        if self.MALWARE_MARK in data:
            writer.write(b"stream: Eicar-Test-Signature FOUND\0")
        else:
            writer.write(b"stream: OK\0")
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> FakeClamd:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


async def test_clean_upload_is_streamed_to_clamd_and_accepted(
    make_runtime: Callable[..., Awaitable[Runtime]], media: Media
) -> None:
    async with FakeClamd() as clamd:
        runtime = await make_runtime(clamav_url=clamd.url)
        async with client_for(runtime) as client:
            response = await upload(client, runtime.settings, media.mp4)
    assert response.status_code == 201, response.text
    assert clamd.scanned == [media.mp4]


async def test_infected_upload_is_rejected_by_malware_scan(
    make_runtime: Callable[..., Awaitable[Runtime]], media: Media
) -> None:
    async with FakeClamd() as clamd:
        runtime = await make_runtime(clamav_url=clamd.url)
        async with client_for(runtime) as client:
            infected = media.png + FakeClamd.MALWARE_MARK
            response = await upload(client, runtime.settings, infected)
    assert response.status_code == 415
    assert response.json()["error"] == {
        "code": "UNSUPPORTED_MEDIA_TYPE",
        "message": "rejected by malware scan",
    }
    assert stored_files(runtime.settings.video_storage_path) == []


async def test_unreachable_scanner_fails_closed(
    make_runtime: Callable[..., Awaitable[Runtime]], media: Media
) -> None:
    async with FakeClamd() as clamd:
        url = clamd.url  # a port nobody listens on once the server is closed
    runtime = await make_runtime(clamav_url=url)
    async with client_for(runtime) as client:
        response = await upload(client, runtime.settings, media.png)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert stored_files(runtime.settings.video_storage_path) == []
