"""Domain errors that carry their HTTP status, and the one error shape of NDX's REST API.

Services raise these; the JSON API, the HTML pages and the CLI all render the same exception. The REST
shape is ``{"error": {"status", "code", "message", "details", "request_id"}}``.
"""

from __future__ import annotations

from typing import Any


class NDXError(Exception):
    """Base of every expected failure; ``status`` is the HTTP status it maps to."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(NDXError):
    status = 404
    code = "not_found"


class Invalid(NDXError):
    status = 422
    code = "invalid"


class Unauthenticated(NDXError):
    status = 401
    code = "unauthenticated"


class Forbidden(NDXError):
    status = 403
    code = "forbidden"


class Conflict(NDXError):
    status = 409
    code = "conflict"


class RateLimited(NDXError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class Unavailable(NDXError):
    status = 503
    code = "unavailable"


STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "invalid",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def error_body(
    status: int, message: str, *, code: str | None = None, details: Any = None, request_id: str | None = None
) -> dict[str, Any]:
    """The single JSON error shape of the REST API."""
    return {
        "error": {
            "status": status,
            "code": code or STATUS_CODES.get(status, "error"),
            "message": message,
            "details": details,
            "request_id": request_id,
        }
    }
