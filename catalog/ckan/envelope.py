"""CKAN's wire format: the action envelope and its errors, built in one place.

Success: ``{"help": URL, "success": true, "result": ...}``. Failure: ``{"help", "success": false, "error":
{"__type": "Not Found Error", "message": ...}}`` with CKAN's status; a validation error carries its messages
keyed by field (``{"__type": "Validation Error", "name": ["That URL is already in use."]}``). Clients such as
ckanapi decide the exception they raise from ``__type``, so the strings are CKAN's exactly.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import ValidationError as PydanticValidationError

from ndx.errors import Conflict, Forbidden, Invalid, NDXError, NotFound, Unauthenticated


class ActionError(Exception):
    """An expected failure of an action, with CKAN's type string and status."""

    type_name = "Error"
    status = 500

    def __init__(self, message: str = "", fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ObjectNotFound(ActionError):
    type_name, status = "Not Found Error", 404


class ValidationFailed(ActionError):
    type_name, status = "Validation Error", 409


class NotAuthorized(ActionError):
    type_name, status = "Authorization Error", 403


class SearchQueryError(ActionError):
    type_name, status = "Search Query Error", 400


class BadRequest(ActionError):
    type_name, status = "Bad Request", 400


def help_url(base_url: str, action: str) -> str:
    return f"{base_url.rstrip('/')}/api/3/action/help_show?name={action}"


def success(base_url: str, action: str, result: Any) -> JSONResponse:
    return JSONResponse({"help": help_url(base_url, action), "success": True, "result": result})


def pydantic_fields(exc: PydanticValidationError) -> dict[str, list[str]]:
    """Pydantic's errors as CKAN's ``{field: [message, ...]}``."""
    out: dict[str, list[str]] = {}
    for err in exc.errors():
        field = ".".join(str(p) for p in err.get("loc", ())) or "__junk"
        out.setdefault(field, []).append(str(err.get("msg", "invalid")))
    return out


def as_action_error(exc: Exception) -> ActionError:
    """The one mapping of everything an action may raise to CKAN's errors (anything else is a 500)."""
    if isinstance(exc, ActionError):
        return exc
    if isinstance(exc, PydanticValidationError):
        return ValidationFailed("Validation error", pydantic_fields(exc))
    if isinstance(exc, NotFound):
        return ObjectNotFound(exc.message)
    if isinstance(exc, Forbidden | Unauthenticated):
        return NotAuthorized(exc.message)
    if isinstance(exc, Invalid | Conflict):
        field = _field_of(exc)
        return ValidationFailed(exc.message, {field: [exc.message]})
    if isinstance(exc, NDXError):
        return BadRequest(exc.message)
    raise exc


def _field_of(exc: NDXError) -> str:
    details = exc.details if isinstance(exc.details, list) else []
    for d in details:
        loc = d.get("loc") if isinstance(d, dict) else None
        if loc:
            return str(loc[-1])
    head = exc.message.split(":", 1)[0]
    return head if head.isidentifier() else "message"


def failure(base_url: str, action: str, error: ActionError) -> JSONResponse:
    body: dict[str, Any] = {"__type": error.type_name, "message": error.message}
    if isinstance(error, ValidationFailed):
        body.update(error.fields)
    return JSONResponse({"help": help_url(base_url, action), "success": False, "error": body}, status_code=error.status)
