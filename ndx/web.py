"""The web kernel: error handlers (one JSON shape for the API, HTML pages for browsers) and templates."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from ndx import i18n
from ndx.errors import NDXError, RateLimited, error_body
from ndx.observability import request_id_of

log = logging.getLogger("ndx.errors")
TEMPLATE_DIR = Path(__file__).parent / "templates"


class ErrorDetail(BaseModel):
    status: int
    code: str
    message: str
    details: Any = None
    request_id: str | None = None


class ErrorResponse(BaseModel):
    """The one error shape of NDX's REST API."""

    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the statuses a route can answer with the error shape."""
    return {status: {"model": ErrorResponse} for status in statuses}


def attachment(content: bytes, *, filename: str, media_type: str) -> Response:
    """``content`` as a download named ``filename`` (ASCII: the callers make it so)."""
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def wants_html(request: Request) -> bool:
    """Browsers get HTML error pages; API paths and API clients get JSON."""
    path = request.url.path
    if path.startswith("/api/") or path in {"/healthz", "/readyz", "/metrics"}:
        return False
    return "text/html" in request.headers.get("accept", "")


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who is signed in, as the site header shows it: the e-mail, the organization, the role (``developer``,
    ``steward``, ``admin``) and the CSRF token of the session, which the header's sign-out form carries."""

    email: str
    org: str
    role: str
    csrf: str


AccountLookup = Callable[[Request], SignedIn | None]


def signed_in(request: Request) -> SignedIn | None:
    """The signed-in user of this request, looked up once per request through the callable the shell
    registered as ``app.state.account_lookup`` (the kernel knows nothing of users or sessions); None for
    anonymous visitors, when no lookup is registered, or when the lookup fails (an error page must render)."""
    if hasattr(request.state, "ndx_account"):
        cached: SignedIn | None = request.state.ndx_account
        return cached
    lookup: AccountLookup | None = getattr(request.app.state, "account_lookup", None)
    account = None
    if lookup is not None:
        try:
            account = lookup(request)
        except Exception:  # the header is decoration: never turn a page (or an error page) into a 500
            log.exception("looking up the signed-in user failed request_id=%s", request_id_of(request.scope))
    request.state.ndx_account = account
    return account


def remember_signed_in(request: Request, account: SignedIn | None) -> None:
    """Tell the header who is signed in when the page already knows, so it does not look it up again."""
    request.state.ndx_account = account


@pass_context
def _ctx_account(ctx: Context) -> SignedIn | None:
    request = ctx.get("request")
    return signed_in(request) if isinstance(request, Request) else None


def make_templates(*dirs: Path) -> Jinja2Templates:
    """Templates from the kernel's folder and ``dirs``, with gettext in the language of each request and
    ``account()``, the signed-in user (or None), for the site header."""
    templates = Jinja2Templates(directory=[TEMPLATE_DIR, *dirs])
    i18n.install(templates.env)
    templates.env.globals["account"] = _ctx_account
    return templates


def _render(
    request: Request,
    status: int,
    message: str,
    code: str | None = None,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    rid = request_id_of(request.scope)
    if wants_html(request):
        templates: Jinja2Templates = request.app.state.templates
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": status, "message": message, "request_id": rid, "lang": i18n.request_language(request)},
            status_code=status,
            headers=headers,
        )
    body = error_body(status, message, code=code, details=details, request_id=rid)
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves through one of these, so the shape is the same on every route."""

    async def ndx_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, NDXError)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        return _render(request, exc.status, exc.message, exc.code, exc.details, headers)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return _render(request, exc.status_code, str(exc.detail), headers=exc.headers)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        details = [
            {"loc": [str(p) for p in err.get("loc", ())], "msg": err.get("msg"), "type": err.get("type")}
            for err in exc.errors()
        ]
        first = details[0] if details else {"loc": [], "msg": "invalid request"}
        where = ".".join(first["loc"]) or "request"
        return _render(request, 422, f"{where}: {first['msg']}", "invalid", details)

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error request_id=%s", request_id_of(request.scope))
        return _render(request, 500, "internal error; quote the request id when reporting it", "internal_error")

    app.add_exception_handler(NDXError, ndx_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected)
