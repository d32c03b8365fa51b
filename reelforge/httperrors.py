"""The one mapping from domain errors to plain-HTTP responses (GraphQL uses
`reelforge.schema.errors`): `{"error": {"code", "message", ...extensions}}` with the status
that the code stands for."""

from __future__ import annotations

from starlette.responses import JSONResponse

from reelforge.errors import RateLimited, ReelforgeError


def error_response(exc: ReelforgeError) -> JSONResponse:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    if exc.http_status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    body = {"error": {"message": exc.message, **exc.extensions}}
    return JSONResponse(body, status_code=exc.http_status, headers=headers)
