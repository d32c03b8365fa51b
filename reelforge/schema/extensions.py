"""The one mapping from errors to GraphQL `extensions.code`, for every transport.

- Request errors are the client's: a document that does not parse (GRAPHQL_PARSE_FAILED),
  one that does not validate (GRAPHQL_VALIDATION_FAILED; too deep, too many tokens or
  aliases: BAD_USER_INPUT), variables that cannot be coerced to their types
  (BAD_USER_INPUT with the variable's path in `extensions.field`, e.g. `input.sceneCount`).
- Our own errors (`ReelforgeError`) carry their code and public extensions.
- Anything else is unexpected: masked as INTERNAL_SERVER_ERROR with an `errorId` that is
  logged with the traceback.

`ErrorCodes` applies this to every result before it leaves: after the operation over HTTP,
and to each streamed result over websockets (queries, mutations and subscriptions on
graphql-transport-ws, subscriptions on graphql-ws), so the same error looks the same on all
three transports.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import structlog
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry import extensions as strawberry_extensions
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from reelforge.admission import FairGate
from reelforge.auth import Principal
from reelforge.errors import ErrorCode, ReelforgeError
from reelforge.observability.metrics import GRAPHQL_ERRORS, GRAPHQL_OPERATION_DURATION
from reelforge.ratelimit import CREATE_JOB_LIMIT_KEY, OPERATION_LIMIT_KEY

log = structlog.get_logger(__name__)

# graphql-core 3.3: "Variable '$input' has invalid value at .scenes[0].duration: ..." and
# "Variable '$id' of required type 'ID!' was not provided." (3.2 used double quotes).
_VARIABLE_ERROR = re.compile(r"""Variable ['"]\$(\w+)['"](?: has invalid value(?: at ([^:]+))?)?""")
_LIMIT_MESSAGES = ("exceeds maximum operation depth", "aliases found", "tokens")
MAX_MESSAGE_CHARS = 500  # an echoed 5,000-digit number or 1 MB string stays out of answers


_NAMED_FIELD = re.compile(r"""(?:[Ff]ield|unknown field) ['"](\w+)['"]""")


def _field_path(variable: str, at: str | None, message: str) -> str:
    """`input` + `.scenes[0].duration` → `input.scenes.0.duration`; a missing or unknown
    field named in the message is appended (`input.brief`)."""
    path = re.sub(r"\[(\d+)\]", r".\1", at or "").strip()
    field = variable + (path if path.startswith(".") or not path else "." + path)
    if named := _NAMED_FIELD.search(message.split(":", 1)[-1]):
        field += "." + named.group(1)
    return field


def _short(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE_CHARS else message[:MAX_MESSAGE_CHARS] + "…"


def classify(
    error: GraphQLError, *, validation_error: bool, production: bool
) -> tuple[str, str, dict[str, Any]]:
    """(code, public message, extra extensions) for one error."""
    original = error.original_error
    if isinstance(original, ReelforgeError):
        extra = {k: v for k, v in original.extensions.items() if k != "code"}
        return original.code.value, original.message, extra
    if isinstance(error, GraphQLSyntaxError):
        code = ErrorCode.GRAPHQL_PARSE_FAILED.value
        if "tokens" in error.message:
            code = ErrorCode.BAD_USER_INPUT.value
        return code, _short(error.message), {}
    if isinstance(original, CannotGetOperationTypeError):
        return ErrorCode.GRAPHQL_VALIDATION_FAILED.value, original.as_http_error_reason(), {}
    if isinstance(original, InvalidOperationTypeError):
        return ErrorCode.BAD_REQUEST.value, _short(error.message), {}
    if validation_error:
        message = error.message
        if production and "Did you mean" in message:
            message = message.split(" Did you mean")[0]
        code = ErrorCode.GRAPHQL_VALIDATION_FAILED.value
        if any(text in message for text in _LIMIT_MESSAGES):
            code = ErrorCode.BAD_USER_INPUT.value
        return code, _short(message), {}
    if error.path is None and (match := _VARIABLE_ERROR.match(error.message)):
        field = _field_path(match.group(1), match.group(2), error.message)
        return ErrorCode.BAD_USER_INPUT.value, _short(error.message), {"field": field}
    error_id = uuid.uuid4().hex[:12]
    log.error(
        "graphql.unexpected_error",
        error_id=error_id,
        path=error.path,
        message=error.message,
        exc_info=original or error,
    )
    return (
        ErrorCode.INTERNAL_SERVER_ERROR.value,
        f"Unexpected error (id {error_id})",
        {"errorId": error_id},
    )


def format_error(
    error: GraphQLError, *, validation_error: bool = False, production: bool = False
) -> GraphQLError:
    code, message, extra = classify(error, validation_error=validation_error, production=production)
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
    """Puts `extensions.code` on every error and masks the unexpected ones, before any
    result is sent (HTTP and websockets alike)."""

    def __init__(self, *, production: bool = False) -> None:
        self.production = production
        self._validation_errors: set[int] = set()
        self._formatted: set[int] = set()

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        # Strawberry falls back to the first operation's name when none was given.
        provided = getattr(context, "_provided_operation_name", None)
        if document is not None and provided is None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                # graphql-core would run the first one; the spec says to refuse.
                context.pre_execution_errors = [
                    GraphQLError(
                        "Must provide operationName when the document contains several operations."
                    )
                ]
        yield
        errors = self.execution_context.pre_execution_errors or []
        self._validation_errors = {id(e) for e in errors}

    def _format(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        formatted = []
        for error in errors:
            if id(error) in self._formatted:
                formatted.append(error)
                continue
            new = format_error(
                error,
                validation_error=id(error) in self._validation_errors,
                production=self.production,
            )
            self._formatted.add(id(new))
            formatted.append(new)
        return formatted

    def _process(self, result: Any) -> None:
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = self._format(errors)

    def on_operation(self) -> Iterator[None]:
        yield
        self._process(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        self._process(result)
        yield


class ValidationCache(strawberry_extensions.ValidationCache):
    """Strawberry's validation cache, except that it keeps the errors an earlier extension
    already found (ErrorCodes refuses several operations without an operationName); the
    stock one would overwrite them with the document's own, empty, list."""

    def on_validate(self) -> Iterator[None]:
        if self.execution_context.pre_execution_errors:
            yield
            return
        yield from super().on_validate()


class ParserCache(strawberry_extensions.ParserCache):
    """Strawberry's parse cache, except that a document which does not parse is left to
    Strawberry's own parse step, which answers it as a request error inside the operation
    (the stock extension raises from its hook, past every `on_operation` and
    `on_stream_result`, so the error would leave without its code)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        try:
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        except GraphQLError:
            context.graphql_document = None
        yield


def format_escaped_errors(errors: list[GraphQLError]) -> list[GraphQLError]:
    """The safety net for errors that left the operation without passing `ErrorCodes`
    (an exception raised by an extension hook): formatted here, never sent raw."""
    return [
        e if "code" in (e.extensions or {}) and e.original_error is None else format_error(e)
        for e in errors
    ]


_CREATE_JOB_FIELD = "createJob"


def _top_level_fields(
    selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode]
) -> Iterator[FieldNode]:
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _top_level_fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            fragment = fragments.pop(selection.name.value)  # each fragment once: no cycles
            yield from _top_level_fields(fragment.selection_set, fragments)


def count_root_fields(document: DocumentNode, operation_name: str | None, name: str) -> int:
    """How many times the operation selects the root field `name` (aliases included)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    chosen = next(
        (
            o
            for o in operations
            if operation_name is None or (o.name and o.name.value == operation_name)
        ),
        None,
    )
    if chosen is None:
        return 0
    return sum(
        1 for f in _top_level_fields(chosen.selection_set, fragments) if f.name.value == name
    )


class OperationRateLimits(SchemaExtension):
    """Per-user limits counted in Redis (so they hold across API processes), checked once
    an operation is valid and before it runs: OPERATION_RATE_LIMIT for every operation,
    CREATE_JOB_RATE_LIMIT for each `createJob` in it. Answered RATE_LIMITED + retryAfter."""

    async def on_execute(self):  # type: ignore[no-untyped-def]
        context = self.execution_context
        principal = getattr(context.context, "principal_or_error", None)
        runtime = getattr(context.context, "runtime", None)
        if isinstance(principal, Principal) and runtime is not None:
            settings, limiter = runtime.settings, runtime.limiter
            key = (principal.client_id, principal.user_id)
            await limiter.hit(settings.operation_rate_limit, OPERATION_LIMIT_KEY, *key)
            document = context.graphql_document
            creates = (
                count_root_fields(document, context.operation_name, _CREATE_JOB_FIELD)
                if document is not None
                else 0
            )
            if creates:
                await limiter.hit(
                    settings.create_job_rate_limit, CREATE_JOB_LIMIT_KEY, *key, cost=creates
                )
        yield


class Admission(SchemaExtension):
    """Queries and mutations run when the gate lets them (reelforge/admission.py): turns go
    round the users waiting. Checked after the rate limits, so a refused operation takes no
    turn; subscriptions are not counted (they mostly wait for events). The gate is the
    app's (`Context.admission`), so one schema can serve several apps."""

    async def on_execute(self):  # type: ignore[no-untyped-def]
        context = self.execution_context
        if context.operation_type is OperationType.SUBSCRIPTION:
            yield
            return
        principal = getattr(context.context, "principal_or_error", None)
        key = (principal.client_id, principal.user_id) if isinstance(principal, Principal) else None
        gate: FairGate = context.context.admission
        async with gate.admit(key):
            yield


class OperationMetrics(SchemaExtension):
    """Times every operation by type (query, mutation, subscription) and outcome."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        try:
            operation_type = context.operation_type.value
        except Exception:  # no document, or an ambiguous one: it was refused anyway
            operation_type = "unknown"
        outcome = "error" if getattr(context.result, "errors", None) else "ok"
        GRAPHQL_OPERATION_DURATION.labels(operation_type=operation_type, outcome=outcome).observe(
            time.perf_counter() - started
        )
