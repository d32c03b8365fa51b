"""GraphQL over HTTP and websockets: Strawberry's ASGI view, made strict at the edges.

HTTP
- The body is decoded by :func:`decode_json_body`: UTF-8 only, an object at the top, no
  NaN/Infinity, numbers of at most 64 characters, nesting at most 64 levels, text without
  lone surrogates. Anything else is a 400 in GraphQL's shape before any GraphQL runs (the
  same for GET's `variables`/`extensions` and multipart `operations`/`map`).
- Every refusal on `/graphql` (Strawberry's own included) answers GraphQL's shape with
  `extensions.code` and the status the code stands for; subscriptions over HTTP are
  refused (BAD_REQUEST: use a websocket), persisted-query hashes get
  PERSISTED_QUERY_NOT_SUPPORTED, and a multipart request's spooled files are closed as soon
  as the response is sent.

Websockets (graphql-transport-ws and graphql-ws)
- A missing, invalid or expired token closes the connection with 4401 and the reason, so
  clients stop retrying; when the token expires on an open connection, each running
  operation ends with an UNAUTHENTICATED error and the connection closes with 4401.
- Syntax errors and ambiguous documents are answered as `error` messages with their code
  (graphql-transport-ws would otherwise close the socket with 4400 and no code).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from contextlib import suppress
from typing import Any

import structlog
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.file_uploads.utils import replace_placeholders_with_files
from strawberry.http import GraphQLRequestData
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import (
    CannotGetOperationTypeError,
    InvalidOperationTypeError,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UnsetType

from reelforge.admission import FairGate
from reelforge.auth import Principal, bearer_token, principal_from_header, verify_token
from reelforge.errors import (
    BadRequest,
    ErrorCode,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    PersistedQueryNotSupported,
    ReelforgeError,
    Unauthenticated,
    UnsupportedMediaType,
)
from reelforge.httperrors import graphql_error_response
from reelforge.runtime import Runtime
from reelforge.schema.context import Context
from reelforge.studio import page as studio_page

log = structlog.get_logger(__name__)

MAX_JSON_DEPTH = 64
MAX_NUMBER_CHARS = 64
WS_UNAUTHORIZED = 4401  # graphql-transport-ws's "Unauthorized": clients do not retry it


# -- request bodies --------------------------------------------------------------------------


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise BadRequest(f"numbers are limited to {MAX_NUMBER_CHARS} characters")
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise BadRequest(f"numbers are limited to {MAX_NUMBER_CHARS} characters")
    value = float(text)
    if not math.isfinite(value):
        raise BadRequest(f"{text} is out of range for a number")
    return value


def _parse_constant(name: str) -> Any:
    raise BadRequest(f"{name} is not valid JSON")


def check_json_value(value: object, *, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Depth and Unicode checks, without recursion: raise BAD_REQUEST for a value nested
    deeper than `max_depth` or holding text with lone surrogates (which cannot be stored,
    logged or sent to a model)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise BadRequest(
                    "text must be valid Unicode (it holds a lone UTF-16 surrogate)"
                ) from None
        elif isinstance(item, dict | list):
            if depth > max_depth:
                raise BadRequest(f"JSON is limited to {max_depth} levels of nesting")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def decode_json_body(data: str | bytes) -> object:
    """Strict JSON for request bodies: a client error (BAD_REQUEST) for anything that is
    not plain UTF-8 JSON of a sane size, depth and number range."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("the request body is not valid UTF-8") from None
    else:
        text = data
    try:
        value = json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except RecursionError:
        raise BadRequest(f"JSON is limited to {MAX_JSON_DEPTH} levels of nesting") from None
    except ValueError as exc:
        raise BadRequest(f"the request body is not valid JSON ({exc})") from None
    check_json_value(value)
    return value


def _charset_is_utf8(content_type: str) -> bool:
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower() in {"utf-8", "utf8"}
    return True


def check_request_headers(scope: Scope) -> None:
    """Refuse encodings we do not decode, before reading a byte of the body."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    encoding = headers.get("content-encoding", "").strip().lower()
    if encoding not in {"", "identity"}:
        raise UnsupportedMediaType(
            f"Content-Encoding {encoding!r} is not accepted; send the body uncompressed"
        )
    if not _charset_is_utf8(headers.get("content-type", "")):
        raise UnsupportedMediaType("send the body as UTF-8 (charset=utf-8)")


_STRAWBERRY_STATUS_CODES = {
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
}


def _from_http_exception(exc: HTTPException) -> ReelforgeError:
    error_type = _STRAWBERRY_STATUS_CODES.get(exc.status_code, BadRequest)
    return error_type(exc.reason)


# -- websockets ------------------------------------------------------------------------------


def _close_reason(payload: object) -> str:
    message = payload.get("message") if isinstance(payload, dict) else None
    reason = str(message or "Unauthorized")
    # A close frame's reason is at most 123 bytes.
    return reason.encode("utf-8")[:123].decode("utf-8", errors="ignore")


def _expired_error() -> dict[str, Any]:
    return {"message": "token expired", "extensions": {"code": ErrorCode.UNAUTHENTICATED.value}}


def _seconds_left(context: Context) -> float | None:
    principal = context.principal_or_error
    if isinstance(principal, Principal) and principal.expires_at is not None:
        return max(0.0, principal.expires_at - time.time())
    return None


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with auth failures as 4401 (and why), codes on parse errors,
    and operations ended when the token expires."""

    expiry_task: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: Any) -> None:
        if self.connection_timed_out:
            return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        payload = message.get("payload", {})
        if payload is None:
            payload = {}
        if not isinstance(payload, dict):
            await self.websocket.close(code=4400, reason="Invalid connection init payload")
            return
        if self.connection_init_received:
            await self.websocket.close(code=4429, reason="Too many initialisation requests")
            return
        self.connection_init_received = True
        self.context.connection_params = payload
        try:
            ack_payload = await self.view.on_ws_connect(self.context)
        except ConnectionRejectionError as exc:
            await self.websocket.close(code=WS_UNAUTHORIZED, reason=_close_reason(exc.payload))
            return
        if isinstance(ack_payload, UnsetType) or ack_payload is None:
            await self.send_message({"type": "connection_ack"})
        else:
            await self.send_message({"type": "connection_ack", "payload": ack_payload})
        self.connection_acknowledged = True
        seconds = _seconds_left(self.context)
        if seconds is not None:
            self.expiry_task = asyncio.create_task(self._expire_after(seconds))

    async def _expire_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        for operation_id, operation in list(self.operations.items()):
            task = operation.task
            with suppress(Exception):
                message: Any = {"id": operation_id, "type": "error", "payload": [_expired_error()]}
                await operation.send_operation_message(message)
            if task is not None:
                task.cancel()
        with suppress(Exception):
            await self.websocket.close(code=WS_UNAUTHORIZED, reason="token expired")

    async def shutdown(self) -> None:
        if self.expiry_task is not None:
            self.expiry_task.cancel()
            with suppress(asyncio.CancelledError):
                await self.expiry_task
        await super().shutdown()

    @staticmethod
    def _get_pre_execution_close_reason(error: GraphQLError) -> str | None:
        # Answer syntax errors and ambiguous documents as `error` messages with their code
        # (ErrorCodes formatted them already), like every other request error.
        return None


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """graphql-ws (subscriptions-transport-ws) with the same auth and expiry rules."""

    expiry_task: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: Any) -> None:
        payload = message.get("payload")
        if payload is not None and not isinstance(payload, dict):
            await self.send_message({"type": "connection_error"})
            await self.websocket.close(code=4400, reason="Invalid connection init payload")
            return
        self.context.connection_params = payload or {}
        try:
            ack_payload = await self.view.on_ws_connect(self.context)
        except ConnectionRejectionError as exc:
            # The legacy protocol's clients read `connection_error`; the close code says
            # the same to the ones that only watch the socket.
            refusal: Any = {"type": "connection_error", "payload": exc.payload}
            await self.send_message(refusal)
            await self.websocket.close(code=WS_UNAUTHORIZED, reason=_close_reason(exc.payload))
            return
        if isinstance(ack_payload, UnsetType) or ack_payload is None:
            await self.send_message({"type": "connection_ack"})
        else:
            await self.send_message({"type": "connection_ack", "payload": ack_payload})
        self.connection_acknowledged = True
        if self.keep_alive:
            self.keep_alive_task = asyncio.create_task(self.handle_keep_alive())
        seconds = _seconds_left(self.context)
        if seconds is not None:
            self.expiry_task = asyncio.create_task(self._expire_after(seconds))

    async def _expire_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        for operation_id in list(self.tasks):
            with suppress(Exception):
                message: Any = {"type": "error", "id": operation_id, "payload": _expired_error()}
                await self.send_message(message)
            task = self.tasks.pop(operation_id, None)
            self.subscriptions.pop(operation_id, None)
            if task is not None:
                task.cancel()
        with suppress(Exception):
            await self.websocket.close(code=WS_UNAUTHORIZED, reason="token expired")

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        """Like Strawberry's, but queries and mutations run too (as they did with
        subscriptions-transport-ws), through the same `stream` as graphql-transport-ws."""
        try:
            result_source = await self.schema.stream(
                query=query,
                variable_values=variables,
                operation_name=operation_name,
                context_value=self.context,
                root_value=self.root_value,
            )
            self.subscriptions[operation_id] = result_source
            is_first_result = True
            async for result in result_source:
                if is_first_result and isinstance(result, PreExecutionError):
                    assert result.errors
                    error: Any = {
                        "type": "error",
                        "id": operation_id,
                        "payload": result.errors[0].formatted,
                    }
                    await self.send_message(error)
                    return
                if not isinstance(result, ExecutionResult):
                    return  # incremental delivery: not offered over websockets
                await self.send_data_message(result, operation_id)
                is_first_result = False
            await self.send_message({"type": "complete", "id": operation_id})
        except asyncio.CancelledError:
            with suppress(Exception):
                await self.send_message({"type": "complete", "id": operation_id})
        finally:
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)

    async def cleanup(self) -> None:
        if self.expiry_task is not None:
            self.expiry_task.cancel()
            with suppress(asyncio.CancelledError):
                await self.expiry_task
        await super().cleanup()


# -- the view --------------------------------------------------------------------------------


class GraphQLView(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(self, schema: BaseSchema, *, admission: FairGate, **kwargs: Any) -> None:
        super().__init__(schema, **kwargs)
        self.admission = admission

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        response: Response
        try:
            try:
                check_request_headers(scope)
                response = await self.run(request)
            except HTTPException as exc:  # Strawberry's own refusals
                response = graphql_error_response(_from_http_exception(exc))
            except ReelforgeError as exc:
                response = graphql_error_response(exc)
                if exc.http_status in (408, 413):  # the rest of the body is not read
                    response.headers["connection"] = "close"
            await response(scope, receive, send)
        finally:
            # Spooled upload files are closed now, not whenever the garbage collector runs.
            await request.close()

    def should_render_graphql_ide(self, request: Any) -> bool:
        """Browsers asking for a page; a GET carrying `query` or `extensions` (Apollo's
        persisted queries) is an operation whatever its Accept header says."""
        params = request.query_params
        return (
            request.method == "GET"
            and params.get("query") is None
            and params.get("extensions") is None
            and "text/html" in request.headers.get("accept", "")
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL built from pinned npm packages (web/studio) and served by this host."""
        return studio_page("graphiql.html")

    def decode_json(self, data: str | bytes) -> object:
        """Websocket messages: a refused one is "not JSON" to Strawberry's handlers
        (graphql-transport-ws closes with 4400 and the reason)."""
        try:
            return decode_json_body(data)
        except BadRequest as exc:
            raise json.JSONDecodeError(exc.message, "", 0) from None

    def parse_json(self, data: str | bytes) -> Any:
        """A request body, GET's `variables`/`extensions`, multipart `operations`: each
        must be a JSON object (batches are not supported)."""
        value = decode_json_body(data)
        if not isinstance(value, dict):
            raise BadRequest("a GraphQL request (and its variables) must be a JSON object")
        return value

    def parse_query_params(self, params: Any) -> dict[str, Any]:
        params = dict(params)
        for name in ("variables", "extensions"):
            if isinstance(params.get(name), str) and params[name].strip() == "null":
                params[name] = None
        return super().parse_query_params(params)

    async def parse_multipart(self, request: Any) -> dict[str, str]:
        try:
            form_data = await request.get_form_data()
        except ValueError as exc:
            raise BadRequest(f"unable to parse the multipart body ({exc})") from None
        operations = form_data.form.get("operations")
        files_map = form_data.form.get("map", "{}")
        if not isinstance(operations, str | bytes) or not isinstance(files_map, str | bytes):
            raise BadRequest("a multipart request needs the 'operations' and 'map' fields")
        operations = decode_json_body(operations)
        files_map = decode_json_body(files_map)
        if not isinstance(operations, dict):
            raise BadRequest("'operations' must be a JSON object (batches are not supported)")
        if not isinstance(files_map, dict) or not all(
            isinstance(paths, list) and all(isinstance(p, str) for p in paths)
            for paths in files_map.values()
        ):
            raise BadRequest("'map' must be a JSON object of file field → list of paths")
        for paths in files_map.values():
            for path in paths:
                if not path.startswith("variables."):
                    raise BadRequest(f"a file can only go into variables, not {path!r}")
        try:
            result: dict[str, str] = replace_placeholders_with_files(
                operations, files_map, form_data.files
            )
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            raise BadRequest(
                f"the 'map' does not match the operation's variables or files ({exc!r})"
            ) from None
        return result

    async def parse_http_body(self, request: Any) -> Any:
        data = await super().parse_http_body(request)
        if isinstance(data, list):
            raise BadRequest("batched operations are not supported")
        return data

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        extensions = request_data.extensions or {}
        if "persistedQuery" in extensions and not request_data.query:
            raise PersistedQueryNotSupported
        method = request_adapter.method
        allowed = (
            {OperationType.QUERY}
            if method == "GET"
            else {
                OperationType.QUERY,
                OperationType.MUTATION,
            }
        )
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except CannotGetOperationTypeError as exc:
            raise _ValidationFailed(exc.as_http_error_reason()) from None
        except InvalidOperationTypeError as exc:
            if exc.operation_type is OperationType.SUBSCRIPTION:
                raise BadRequest(
                    "subscriptions need a websocket: connect to /graphql with "
                    "graphql-transport-ws (or graphql-ws) and subscribe there"
                ) from None
            raise MethodNotAllowed(exc.as_http_error_reason(method)) from None
        except MissingQueryError:
            raise BadRequest("no GraphQL query found in the request") from None

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        runtime: Runtime = request.app.state.runtime
        principal: Principal | Unauthenticated
        try:
            if isinstance(request, WebSocket):
                principal = Unauthenticated("send the token in connection_init")
            else:
                principal = principal_from_header(
                    runtime.settings, request.headers.get("authorization")
                )
        except Unauthenticated as exc:
            principal = exc
        return Context(
            runtime=runtime,
            principal_or_error=principal,
            admission=self.admission,
            request=request,
            response=response,
        )

    async def on_ws_connect(self, context: Context) -> None:
        params = context.connection_params or {}
        raw = (
            params.get("Authorization") or params.get("authorization") or params.get("token") or ""
        )
        raw = raw if isinstance(raw, str) else ""
        token = bearer_token(raw) if " " in raw else raw or None
        try:
            if not token:
                raise Unauthenticated("missing token in connection_init payload")
            context.principal_or_error = verify_token(context.runtime.settings, token)
        except Unauthenticated as exc:
            raise ConnectionRejectionError(
                {"code": "UNAUTHENTICATED", "message": exc.message}
            ) from exc


class _ValidationFailed(ReelforgeError):
    code = ErrorCode.GRAPHQL_VALIDATION_FAILED
