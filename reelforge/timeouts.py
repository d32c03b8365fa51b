"""Slow and idle clients are timed out, so a few sockets cannot hold the server's workers:

- **headers**: a connection must finish a request's headers within HTTP_HEADER_TIMEOUT of
  opening (or of its previous response): :class:`HeaderTimeoutProtocol`, uvicorn's
  httptools protocol with a timer (uvicorn itself waits forever on slow headers);
- **body**: a body must arrive at HTTP_MIN_BODY_RATE bytes a second after a grace of
  HTTP_BODY_TIMEOUT (a 1 MB JSON body gets the grace, a 50 MB upload on a slow link gets
  the grace plus its size at the minimum rate): :class:`BodyTimeoutMiddleware` answers 408
  and closes the connection;
- **keep-alive**: an idle connection between requests is closed after
  HTTP_KEEP_ALIVE_TIMEOUT (uvicorn's `timeout_keep_alive`).

Behind a proxy (Fly's, nginx) the proxy buffers slow clients first; these limits protect a
directly exposed `reelforge serve` and the proxy-to-app hop.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reelforge.errors import ErrorCode, ReelforgeError
from reelforge.httperrors import error_response_for

log = structlog.get_logger(__name__)


class RequestTimeout(ReelforgeError):
    code = ErrorCode.REQUEST_TIMEOUT


class BodyTimeoutMiddleware:
    """408 when a request body arrives slower than `min_rate` bytes/s after `grace` s."""

    def __init__(self, app: ASGIApp, *, grace: float, min_rate: float) -> None:
        self.app = app
        self.grace = grace
        self.min_rate = min_rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        received = 0
        body_done = False
        response_started = False
        timed_out = False

        async def timed_receive() -> Message:
            nonlocal received, body_done, timed_out
            if body_done:
                return await receive()  # waiting for a disconnect is not reading a body
            allowed = started + self.grace + received / self.min_rate - time.monotonic()
            try:
                if allowed <= 0:
                    raise TimeoutError
                message = await asyncio.wait_for(receive(), allowed)
            except TimeoutError:
                timed_out = True
                log.info("http.body_timeout", path=scope["path"], received=received)
                raise RequestTimeout(
                    "the request body arrived too slowly; send it at once"
                ) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, timed_receive, tracked_send)
        except Exception as exc:
            if not timed_out:
                raise
            if not response_started:
                error = exc if isinstance(exc, RequestTimeout) else RequestTimeout("too slow")
                response = error_response_for(scope, error)
                response.headers["connection"] = "close"
                await response(scope, receive, send)


def header_timeout_protocol(header_timeout: float) -> type[Any] | None:
    """uvicorn's httptools protocol that closes a connection whose request headers are not
    complete `header_timeout` s after it opened or after its previous response; None
    without httptools (uvicorn then uses h11 and has no header timeout)."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # pragma: no cover - uvicorn[standard] ships httptools
        return None

    class HeaderTimeoutProtocol(HttpToolsProtocol):
        _header_timer: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            self._disarm()
            self._header_timer = self.loop.call_later(header_timeout, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                log.info("http.header_timeout", client=self.client)
                self.transport.write(
                    b"HTTP/1.1 408 Request Timeout\r\nconnection: close\r\n"
                    b"content-length: 0\r\n\r\n"
                )
                self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return HeaderTimeoutProtocol
