"""The one mapping from domain errors to HTTP responses (GraphQL errors get their codes in
`reelforge.schema.extensions`), with the status that the code stands for:

- on `/graphql`, GraphQL's shape: `{"errors": [{"message", "extensions": {"code", ...}}]}`,
  so GraphQL clients (Apollo, urql, graphql-request) reach `extensions.code` even for a
  refusal made before any GraphQL ran (body too large, bad JSON, CSRF, missing token);
- on the plain HTTP routes (`/api/v2/...`): `{"error": {"code", "message", ...}}`.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import Scope

from reelforge.errors import RateLimited, ReelforgeError

GRAPHQL_PATH = "/graphql"


def _headers(exc: ReelforgeError) -> dict[str, str] | None:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    if exc.http_status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return headers


def error_response(exc: ReelforgeError) -> JSONResponse:
    body = {"error": {"message": exc.message, **exc.extensions}}
    return JSONResponse(body, status_code=exc.http_status, headers=_headers(exc))


def graphql_error_body(exc: ReelforgeError) -> dict[str, object]:
    return {"errors": [{"message": exc.message, "extensions": dict(exc.extensions)}]}


def graphql_error_response(exc: ReelforgeError) -> JSONResponse:
    return JSONResponse(graphql_error_body(exc), status_code=exc.http_status, headers=_headers(exc))


def is_graphql_path(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return (path.rstrip("/") or "/") == GRAPHQL_PATH


def error_response_for(scope: Scope, exc: ReelforgeError) -> JSONResponse:
    """The refusal in the shape the route's clients read."""
    return graphql_error_response(exc) if is_graphql_path(scope) else error_response(exc)
