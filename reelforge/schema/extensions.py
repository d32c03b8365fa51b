"""The one mapping from domain errors to GraphQL `extensions.code`. Anything unexpected is
masked as INTERNAL_SERVER_ERROR with an error id that is also logged with the traceback."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import structlog
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from reelforge.errors import ErrorCode, ReelforgeError
from reelforge.observability.metrics import GRAPHQL_ERRORS, GRAPHQL_OPERATION_DURATION

log = structlog.get_logger(__name__)


def format_error(error: GraphQLError, *, production: bool) -> GraphQLError:
    original = error.original_error
    if isinstance(original, ReelforgeError):
        code, message, extra = original.code.value, original.message, dict(original.extensions)
    elif original is None:
        # Syntax and validation errors: the client's fault, safe to show.
        code, message, extra = "GRAPHQL_VALIDATION_FAILED", error.message, {}
        if production and "Did you mean" in message:
            message = message.split(" Did you mean")[0]
        if (
            "exceeds maximum operation depth" in message
            or "aliases found" in message
            or "tokens" in message
        ):
            code = ErrorCode.BAD_USER_INPUT.value
    else:
        error_id = uuid.uuid4().hex[:12]
        log.error("graphql.unexpected_error", error_id=error_id, path=error.path, exc_info=original)
        code, message, extra = (
            ErrorCode.INTERNAL_SERVER_ERROR.value,
            f"Unexpected error (id {error_id})",
            {"errorId": error_id},
        )
    GRAPHQL_ERRORS.labels(code=code).inc()
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": code, **extra},
    )


class ErrorCodes(SchemaExtension):
    """Puts `extensions.code` on every error and masks the unexpected ones."""

    def __init__(self, *, production: bool = False) -> None:
        self.production = production

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [format_error(e, production=self.production) for e in errors]


class SessionExtension(SchemaExtension):
    """Closes the operation's database session when the operation ends."""

    async def on_operation(self):  # type: ignore[no-untyped-def]
        yield
        context = self.execution_context.context
        close = getattr(context, "close", None)
        if close is not None:
            await close()


class OperationMetrics(SchemaExtension):
    """Times every operation by type (query, mutation, subscription) and outcome."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        operation_type = context.operation_type.value if context.operation_type else "unknown"
        outcome = "error" if getattr(context.result, "errors", None) else "ok"
        GRAPHQL_OPERATION_DURATION.labels(operation_type=operation_type, outcome=outcome).observe(
            time.perf_counter() - started
        )
