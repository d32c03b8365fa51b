"""HTTP-level guards for uploads, as pure ASGI (they never buffer a body):

- :class:`UploadSizeLimitMiddleware` counts the body bytes of multipart requests to the
  upload paths and answers 413 the moment the count passes the limit, whatever
  Content-Length claimed (or without one): the app sees a disconnect and stops, so a
  Starlette ``request.form()`` never spools more than the limit to disk.
- :func:`check_multipart_csrf` / :class:`CsrfMultipartMiddleware`: a multipart request is
  one a browser form can send cross-site without a CORS preflight, so it must carry a
  header such a form cannot set (Apollo's CSRF prevention, which GraphQL clients with
  upload support already send).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import structlog
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reelforge.auth import principal_from_header
from reelforge.config import Settings
from reelforge.errors import BadRequest, PayloadTooLarge, Unauthenticated
from reelforge.httperrors import error_response_for

log = structlog.get_logger(__name__)

UPLOAD_PATHS = ("/graphql", "/api/v2/upload-asset")
# Multipart headers, boundaries and small form fields around the file (the GraphQL
# multipart spec's `operations` and `map`) on top of the file itself.
ENVELOPE_ALLOWANCE = 64 * 1024

PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name", "graphql-preflight")
# Content types an HTML form (or a no-cors fetch) sends without a CORS preflight.
_SIMPLE_CONTENT_TYPES = frozenset(
    {"multipart/form-data", "application/x-www-form-urlencoded", "text/plain"}
)


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path.rstrip("/") or "/"


def needs_preflight_header(method: str, headers: Mapping[str, str]) -> bool:
    """True for a request a cross-site form could have sent and that lacks a preflight
    header: it must not be executed."""
    if method.upper() in {"GET", "HEAD", "OPTIONS"}:
        return False
    if _media_type(headers.get("content-type")) not in _SIMPLE_CONTENT_TYPES:
        return False
    return not any(headers.get(name, "").strip() for name in PREFLIGHT_HEADERS)


def _csrf_error() -> BadRequest:
    return BadRequest(
        "multipart requests must send an 'apollo-require-preflight' (or "
        "'x-apollo-operation-name' / 'graphql-preflight') header; this protects against "
        "cross-site request forgery"
    )


def check_multipart_csrf(request: HTTPConnection) -> None:
    """Raise BAD_REQUEST for a multipart (or other form-like) POST without a preflight
    header. Call it before reading the body."""
    if request.scope["type"] != "http":
        return
    if needs_preflight_header(request.scope["method"], request.headers):
        raise _csrf_error()


class CsrfMultipartMiddleware:
    """:func:`check_multipart_csrf` as middleware for ``paths`` (answers 400 itself)."""

    def __init__(self, app: ASGIApp, paths: Iterable[str] = ("/graphql",)) -> None:
        self.app = app
        self.paths = frozenset(p.rstrip("/") or "/" for p in paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and _route_path(scope) in self.paths
            and needs_preflight_header(scope["method"], Headers(scope=scope))
        ):
            log.info("upload.csrf.rejected", path=scope["path"])
            await error_response_for(scope, _csrf_error())(scope, receive, send)
            return
        await self.app(scope, receive, send)


class MultipartAuthMiddleware:
    """A multipart request to ``paths`` must carry a valid bearer token before a byte of
    its body is read: otherwise anyone could make the server spool 50 MB to disk just to
    be told they are not signed in."""

    def __init__(
        self, app: ASGIApp, settings: Settings, paths: Iterable[str] = ("/graphql",)
    ) -> None:
        self.app = app
        self.settings = settings
        self.paths = frozenset(p.rstrip("/") or "/" for p in paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _route_path(scope) in self.paths:
            headers = Headers(scope=scope)
            if _media_type(headers.get("content-type")).startswith("multipart/"):
                try:
                    principal_from_header(self.settings, headers.get("authorization"))
                except Unauthenticated as exc:
                    log.info("upload.unauthenticated", path=scope["path"])
                    response = error_response_for(scope, exc)
                    response.headers["connection"] = "close"  # the body is never read
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"uploads are limited to {max_bytes} bytes ({max_bytes / 1024 / 1024:g} MB)",
        maxBytes=max_bytes,
    )


def _too_large_response(scope: Scope, max_bytes: int) -> Response:
    response = error_response_for(scope, too_large(max_bytes))
    # The rest of the body is not read: the connection cannot be reused.
    response.headers["connection"] = "close"
    return response


class UploadSizeLimitMiddleware:
    """413 as soon as a multipart body to one of ``paths`` passes ``max_bytes`` plus a small
    allowance for the multipart envelope. A declared Content-Length above the limit is
    refused before reading anything; a smaller (or missing) one is not trusted."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        paths: tuple[str, ...] = UPLOAD_PATHS,
        *,
        envelope_bytes: int = ENVELOPE_ALLOWANCE,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.limit = max_bytes + envelope_bytes
        self.paths = frozenset(p.rstrip("/") or "/" for p in paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _route_path(scope) not in self.paths:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not _media_type(headers.get("content-type")).startswith("multipart/"):
            await self.app(scope, receive, send)
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            log.info("upload.too_large", path=scope["path"], declared=int(declared))
            await _too_large_response(scope, self.max_bytes)(scope, receive, send)
            return

        received = 0
        cut_off = False
        response_started = False

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if cut_off:
                return  # we answered 413 already; whatever the app says now is moot
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        async def counting_receive() -> Message:
            nonlocal received, cut_off
            if cut_off:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    log.info("upload.too_large", path=scope["path"], received=received)
                    if not response_started:
                        await _too_large_response(scope, self.max_bytes)(scope, receive, send)
                    cut_off = True
                    # The app stops reading (Starlette raises ClientDisconnect); the server
                    # closes the connection instead of reading the rest of the body.
                    return {"type": "http.disconnect"}
            return message

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception as exc:
            if not cut_off:
                raise
            log.debug("upload.cut_off.app_error", error=type(exc).__name__)
