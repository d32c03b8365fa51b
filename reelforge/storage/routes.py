"""The asset HTTP routes beside GraphQL:

- ``POST /api/v2/upload-asset``: a plain multipart form with one file in the field
  ``file``; the body is parsed as it streams (never ``request.form()``), the file's bytes
  go straight to the upload service, 201 with the asset.
- ``GET|HEAD /api/v2/assets/{asset_id}``: the file, for a bearer token of its client or a
  signed URL; Range requests (so a video can seek), ETag (the sha256) and 304s. On object
  storage the answer is a 307 to a presigned URL of the store, which serves the bytes
  (Range, ETag and HEAD included) until the signed URL would have expired.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import anyio
import structlog
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from reelforge.auth import principal_from_header
from reelforge.errors import BadUserInput, Forbidden, NotFound, ReelforgeError
from reelforge.httperrors import error_response
from reelforge.models import Asset, as_utc_iso
from reelforge.runtime import Runtime
from reelforge.storage.blobs import LocalBlobStore
from reelforge.storage.limits import ENVELOPE_ALLOWANCE, too_large
from reelforge.storage.repository import AssetRepository
from reelforge.storage.signing import asset_path, signed_asset_url, verify_asset_signature
from reelforge.storage.uploads import receive_upload

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

log = structlog.get_logger(__name__)

FILE_FIELD = "file"
MAX_PARTS = 1000  # like Starlette's form(): max_files + max_fields
MAX_HEADER_BYTES = 8 * 1024  # the headers of one part
_ASSET_ID = re.compile(r"[A-Za-z0-9\-]{1,64}")


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def decode_filename(raw: bytes) -> str:
    """A multipart file name as sent: UTF-8 (what browsers and curl send), else Latin-1
    (the only other encoding a header can carry), never a replacement character."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class MultipartFileStream:
    """Streams the one file of a multipart/form-data body as it arrives.

    ``await start()`` reads until the headers of the ``file`` part are in and returns its
    file name; ``chunks()`` then yields the file's bytes and only finishes once the whole
    body has been read and found well formed. Other fields are read and dropped. More than
    :data:`MAX_PARTS` parts, a second file, a missing ``file`` field or a body over
    ``max_body_bytes`` fail with BAD_USER_INPUT (PAYLOAD_TOO_LARGE for the size).
    """

    def __init__(self, request: Request, *, max_bytes: int) -> None:
        _, params = parse_options_header(request.headers.get("content-type"))
        boundary = params.get(b"boundary")
        if not boundary:
            raise BadUserInput("multipart/form-data without a boundary")
        callbacks: MultipartCallbacks = {
            "on_part_begin": self._on_part_begin,
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_end": self._on_end,
        }
        try:
            self._parser = MultipartParser(boundary, callbacks)
        except FormParserError as exc:
            raise BadUserInput(f"invalid multipart boundary: {exc}") from exc
        self._body = request.stream().__aiter__()
        self._max_bytes = max_bytes
        self._max_body_bytes = max_bytes + ENVELOPE_ALLOWANCE
        self._received = 0
        self._parts = 0
        self._header_bytes = 0
        self._field = bytearray()
        self._value = bytearray()
        self._headers: dict[str, bytes] = {}
        self._in_file = False
        self._file_state = "missing"  # missing → open → done
        self._ended = False
        self._error: ReelforgeError | None = None
        self._pending: list[bytes] = []
        self.filename: str | None = None

    # --- parser callbacks (synchronous; errors are raised after `write` returns) ---------

    def _fail(self, error: ReelforgeError) -> None:
        if self._error is None:
            self._error = error

    def _on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            self._fail(BadUserInput(f"too many multipart parts (at most {MAX_PARTS})"))
        self._headers = {}
        self._header_bytes = 0
        self._in_file = False

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_bytes += end - start
        self._field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_bytes += end - start
        self._value += data[start:end]

    def _on_header_end(self) -> None:
        if self._header_bytes > MAX_HEADER_BYTES:
            self._fail(BadUserInput("multipart part headers are too large"))
        name = self._field.decode("latin-1").strip().lower()
        # Raw bytes: browsers send file names as UTF-8 in the quoted string (RFC 7578).
        self._headers[name] = bytes(self._value)
        self._field.clear()
        self._value.clear()

    def _on_headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get("content-disposition"))
        if disposition != b"form-data" or options.get(b"name") != FILE_FIELD.encode():
            return
        if b"filename" not in options:
            self._fail(BadUserInput(f"the field {FILE_FIELD!r} must be a file"))
        elif self._file_state != "missing":
            self._fail(BadUserInput("send one file per request"))
        else:
            self._file_state = "open"
            self._in_file = True
            self.filename = decode_filename(options[b"filename"])

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._pending.append(data[start:end])

    def _on_part_end(self) -> None:
        if self._in_file:
            self._in_file = False
            self._file_state = "done"

    def _on_end(self) -> None:
        self._ended = True

    # --- reading -------------------------------------------------------------------------

    async def _feed(self) -> bool:
        """Parse one more chunk of the body; False at its end."""
        try:
            chunk = await anext(self._body)
        except StopAsyncIteration:
            return False
        self._received += len(chunk)
        if self._received > self._max_body_bytes:
            raise too_large(self._max_bytes)
        try:
            self._parser.write(chunk)
        except FormParserError as exc:
            raise BadUserInput(f"invalid multipart body: {exc}") from exc
        if self._error is not None:
            raise self._error
        return True

    async def start(self) -> str | None:
        while self._file_state == "missing":
            if not await self._feed():
                raise BadUserInput(f"send the file in a multipart field named {FILE_FIELD!r}")
        return self.filename

    def _take(self) -> bytes:
        data = b"".join(self._pending)
        self._pending.clear()
        return data

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            if data := self._take():
                yield data
            if not await self._feed():
                break
        self._parser.finalize()
        if not self._ended or self._file_state != "done":
            raise BadUserInput("the multipart body ended early")
        if data := self._take():
            yield data


def asset_json(runtime: Runtime, asset: Asset) -> dict[str, Any]:
    return {
        "id": asset.id,
        "kind": asset.kind,
        "contentType": asset.content_type,
        "sizeBytes": asset.size_bytes,
        "sha256": asset.sha256,
        "width": asset.width,
        "height": asset.height,
        "durationSeconds": asset.duration_seconds,
        "originalFilename": asset.original_filename,
        "createdAt": as_utc_iso(asset.created_at),
        "url": signed_asset_url(runtime.settings, asset),
    }


async def upload_asset(request: Request) -> Response:
    runtime = _runtime(request)
    settings = runtime.settings
    try:
        principal = principal_from_header(settings, request.headers.get("authorization"))
        content_type, _ = parse_options_header(request.headers.get("content-type"))
        if content_type != b"multipart/form-data":
            raise BadUserInput(
                f"send the file as multipart/form-data in a field named {FILE_FIELD!r}"
            )
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > settings.max_upload_bytes + ENVELOPE_ALLOWANCE:
            raise too_large(settings.max_upload_bytes)
        stream = MultipartFileStream(request, max_bytes=settings.max_upload_bytes)
        filename = await stream.start()
        asset = await receive_upload(runtime, principal, stream.chunks(), filename=filename)
    except ReelforgeError as exc:
        response = error_response(exc)
        if exc.http_status == 413:
            response.headers["connection"] = "close"
        return response
    except ClientDisconnect:
        log.info("upload.client_disconnected")
        return Response(status_code=400)
    return JSONResponse(
        asset_json(runtime, asset),  # the asset itself, as the README shows: {"id", "url", …}
        status_code=201,
        headers={"location": asset_path(asset.id)},
    )


async def _authorised_asset(
    runtime: Runtime, request: Request, asset_id: str
) -> tuple[Asset, str, float]:
    """The asset, the Cache-Control it may be served with and the seconds its access lasts,
    for a signed URL or a token."""
    query = request.query_params
    if "sig" in query or "expires" in query:
        denied = Forbidden("invalid or expired signature")
        if not _ASSET_ID.fullmatch(asset_id):
            raise denied
        async with runtime.unit() as unit:
            try:
                asset = await AssetRepository(unit).get(asset_id, client_id=None)
            except NotFound:
                raise denied from None  # a signature never tells whether an id exists
        expires, sig = query.get("expires", ""), query.get("sig", "")
        if not verify_asset_signature(runtime.settings, asset.id, asset.client_id, expires, sig):
            raise denied
        remaining = max(0, int(expires) - int(time.time()))
        return asset, f"private, max-age={remaining}", float(remaining)
    principal = principal_from_header(runtime.settings, request.headers.get("authorization"))
    if not _ASSET_ID.fullmatch(asset_id):
        raise NotFound(f"asset {asset_id} not found", id=asset_id)
    async with runtime.unit() as unit:
        asset = await AssetRepository(unit).get(asset_id, client_id=principal.client_id)
    return asset, "private, no-cache", runtime.settings.signed_url_ttl.total_seconds()


def _etag_matches(if_none_match: str, etag: str) -> bool:
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


async def get_asset(request: Request) -> Response:
    runtime = _runtime(request)
    asset_id: str = request.path_params["asset_id"]
    try:
        asset, cache_control, expires_in = await _authorised_asset(runtime, request, asset_id)
    except ReelforgeError as exc:
        return error_response(exc)
    blobs = runtime.blobs
    if not isinstance(blobs, LocalBlobStore):
        # The object store serves the bytes (Range, ETag, HEAD): the client is sent there
        # with a presigned URL that expires when the signed URL (or, for a token, the
        # signed URL the token could have asked for) does.
        url = await blobs.presigned_url(asset.storage_key, expires_in)
        assert url is not None
        return RedirectResponse(
            url, status_code=307, headers={"cache-control": "private, no-store"}
        )
    path = blobs.path(asset.storage_key)
    try:
        stat = await anyio.to_thread.run_sync(os.stat, path)
    except FileNotFoundError:
        log.error("asset.blob_missing", asset_id=asset.id, storage_key=asset.storage_key)
        return error_response(NotFound(f"asset {asset.id} not found", id=asset.id))
    etag = f'"{asset.sha256}"'
    headers = {
        "etag": etag,
        "cache-control": cache_control,
        "x-content-type-options": "nosniff",
        "content-security-policy": "default-src 'none'; sandbox",
    }
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and _etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    # FileResponse answers Range (206, single or multiple ranges; 416 when unsatisfiable),
    # If-Range against our ETag, HEAD, and Accept-Ranges: bytes.
    return FileResponse(path, media_type=asset.content_type, headers=headers, stat_result=stat)


routes: list[Route] = [
    Route("/api/v2/upload-asset", upload_asset, methods=["POST"]),
    Route("/api/v2/assets/{asset_id}", get_asset, methods=["GET", "HEAD"]),
]
