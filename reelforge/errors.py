"""Domain errors, each with a stable code. They know nothing of HTTP or GraphQL:
`reelforge.schema.errors` and `reelforge.app` map them to `extensions.code` and statuses."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"
    BUDGET_EXCEEDED = "BUDGET_EXCEEDED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    # The request itself, before any GraphQL runs (the body, its encoding, the method).
    BAD_REQUEST = "BAD_REQUEST"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
    PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
    # GraphQL request errors (the document or its variables); the names Apollo uses.
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.BAD_USER_INPUT: 400,
    ErrorCode.CONFLICT: 409,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.BUDGET_EXCEEDED: 402,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.INTERNAL_SERVER_ERROR: 500,
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.REQUEST_TIMEOUT: 408,
    # Answered 200 so that every client reads it as a GraphQL error (Apollo's persisted
    # query link then turns persisted queries off and sends the full query).
    ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED: 200,
    ErrorCode.GRAPHQL_PARSE_FAILED: 400,
    ErrorCode.GRAPHQL_VALIDATION_FAILED: 400,
}


class ReelforgeError(Exception):
    """Base of every expected error; `code` is part of the public API and never changes."""

    code: ErrorCode = ErrorCode.INTERNAL_SERVER_ERROR

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        # Public details of the error, the stable code first (GraphQL copies this dict into
        # `extensions` wherever the error surfaces, subscriptions included).
        self.extensions: dict[str, Any] = {"code": self.code.value, **extensions}

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]


class Unauthenticated(ReelforgeError):
    code = ErrorCode.UNAUTHENTICATED


class Forbidden(ReelforgeError):
    code = ErrorCode.FORBIDDEN


class NotFound(ReelforgeError):
    code = ErrorCode.NOT_FOUND


class BadUserInput(ReelforgeError):
    code = ErrorCode.BAD_USER_INPUT


class Conflict(ReelforgeError):
    code = ErrorCode.CONFLICT


class RateLimited(ReelforgeError):
    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retryAfter=retry_after)
        self.retry_after = retry_after


class BudgetExceeded(ReelforgeError):
    code = ErrorCode.BUDGET_EXCEEDED


class PayloadTooLarge(ReelforgeError):
    code = ErrorCode.PAYLOAD_TOO_LARGE


class UnsupportedMediaType(ReelforgeError):
    code = ErrorCode.UNSUPPORTED_MEDIA_TYPE


class ServiceUnavailable(ReelforgeError):
    code = ErrorCode.SERVICE_UNAVAILABLE


# Seconds a client is told to wait when the service is at capacity (every pooled connection
# busy, or its turn to run not come within OPERATION_QUEUE_TIMEOUT).
BUSY_RETRY_AFTER = 2


class BadRequest(ReelforgeError):
    """A request that is not a well-formed GraphQL-over-HTTP request (body, encoding, shape)."""

    code = ErrorCode.BAD_REQUEST


class MethodNotAllowed(ReelforgeError):
    code = ErrorCode.METHOD_NOT_ALLOWED


class PersistedQueryNotSupported(ReelforgeError):
    code = ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED

    def __init__(self) -> None:
        # The message is the one Apollo's persisted-query link looks for.
        super().__init__("PersistedQueryNotSupported")


class InternalError(ReelforgeError):
    """An unexpected failure, masked: the message carries only an id that is in the logs."""

    code = ErrorCode.INTERNAL_SERVER_ERROR
