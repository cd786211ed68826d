"""Signing in and out of the pages, and what every access page shares: the signed-in user, CSRF, rendering.

A web session is a signed cookie (``policies.auth.Sessions``) holding the user id and a CSRF token bound to
that session; every POST form carries the token and is refused without it. The login form itself has no
session yet, so it uses a double-submit token: a random value in a short-lived cookie and in the form.
Pages that need a user redirect anonymous visitors to ``/login?next=<the page>``.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException

from ndx import i18n
from ndx.deps import SessionDep
from ndx.errors import Forbidden
from ndx.web import SignedIn, remember_signed_in
from policies import users
from policies.auth import SESSION_COOKIE, Caller, Sessions, caller_for_user
from policies.ratelimit import RateLimiter

TEMPLATE_DIR = Path(__file__).parent / "templates"
LOGIN_CSRF_COOKIE = "ndx_login_csrf"
log = logging.getLogger("ndx.login")
FORM_EXPIRED = "the form has expired or did not come from this site: reload the page and try again"
router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


@dataclass(frozen=True, slots=True)
class PageUser:
    """The signed-in user of a page, and the CSRF token its forms must carry."""

    caller: Caller
    csrf: str


def sessions_of(request: Request) -> Sessions | None:
    """The app's session signer, or None when web sign-in is off (no NDX_SECRET_KEY)."""
    sessions: Sessions | None = getattr(request.app.state, "sessions", None)
    return sessions


def page_user(request: Request, session: SessionDep) -> PageUser | None:
    sessions = sessions_of(request)
    if sessions is None:
        return None
    read = sessions.read(request.cookies.get(SESSION_COOKIE))
    if read is None:
        return None
    user_id, csrf = read
    caller = caller_for_user(session, user_id)
    return PageUser(caller, csrf) if caller is not None else None


def header_account(request: Request) -> SignedIn | None:
    """The signed-in user for the site header of every page (``ndx.web.signed_in``); the shell registers it on
    ``app.state``. Anonymous requests (no valid session cookie) never reach the database."""
    sessions = sessions_of(request)
    if sessions is None or sessions.read(request.cookies.get(SESSION_COOKIE)) is None:
        return None
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    with factory() as session:
        user = page_user(request, session)
    if user is None:
        return None
    return _signed_in(user)


def _signed_in(user: PageUser) -> SignedIn:
    caller = user.caller
    return SignedIn(email=caller.email, org=caller.org, role=caller.role, csrf=user.csrf)


def safe_next(value: str | None, default: str = "/me") -> str:
    """A local path to go to after signing in; anything that could leave the site becomes ``default``."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def login_url(request: Request) -> str:
    """``/login?next=`` the page asked for (for a POST: the page the form was on, when it says so)."""
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        referer = urlsplit(request.headers.get("referer", ""))
        same_site = referer.netloc == request.url.netloc
        target = referer.path + (f"?{referer.query}" if referer.query else "") if same_site else "/me"
    return "/login?next=" + quote(safe_next(target), safe="/")


def require_user(request: Request, session: SessionDep) -> PageUser:
    """The signed-in user; anonymous visitors are sent to the login page (303), which brings them back."""
    user = page_user(request, session)
    if user is None:
        raise HTTPException(303, "sign in first", headers={"Location": login_url(request)})
    return user


UserDep = Annotated[PageUser, Depends(require_user)]
MaybeUserDep = Annotated[PageUser | None, Depends(page_user)]


def check_csrf(user: PageUser, given: str) -> None:
    if not Sessions.csrf_ok(user.csrf, given):
        raise Forbidden(FORM_EXPIRED)


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    user: PageUser | None = None,
    status: int = 200,
) -> Response:
    """Render a page in the request's language; pages about one's access are never cached."""
    templates: Jinja2Templates = request.app.state.templates
    if user is not None:  # the header shows the same user: spare it a second look-up
        remember_signed_in(request, _signed_in(user))
    ctx = {"lang": i18n.request_language(request), "me": user, "csrf": user.csrf if user else "", **context}
    response = templates.TemplateResponse(request, name, ctx, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    i18n.remember_language(request, response)
    return response


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _login_form(
    request: Request,
    *,
    next_url: str,
    email: str = "",
    error: str | None = None,
    status: int = 200,
    wait_s: int = 0,
) -> Response:
    token = secrets.token_urlsafe(24)
    context = {
        "next": next_url,
        "email": email,
        "error": error,
        "login_csrf": token,
        "enabled": sessions_of(request) is not None,
        "wait_minutes": max(1, -(-wait_s // 60)),
    }
    response = render(request, "policies/login.html", context, status=status)
    if wait_s:
        response.headers["Retry-After"] = str(wait_s)
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="lax", secure=_secure(request), path="/login"
    )
    return response


@router.get("/login")
def login_page(
    request: Request, session: SessionDep, next: Annotated[str | None, Query(max_length=2000)] = None
) -> Response:
    user = page_user(request, session)
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_form(request, next_url=safe_next(next))


@router.post("/login")
def login_submit(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    sessions = sessions_of(request)
    target = safe_next(next)
    if sessions is None:
        return _login_form(request, next_url=target, status=503)
    if not Sessions.csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE, ""), csrf):
        return _login_form(request, next_url=target, email=email, error="expired", status=403)
    if not email.strip() or not password:
        return _login_form(request, next_url=target, email=email, error="missing", status=422)
    limiter: RateLimiter = request.app.state.gateway.limiter
    address = request.client.host if request.client else "unknown"
    wait = limiter.login_wait(email, address)
    if wait:
        log.warning("sign-in refused: too many failures for %s or from %s", email.strip().lower(), address)
        return _login_form(request, next_url=target, email=email, error="throttled", status=429, wait_s=wait)
    user = users.login(session=session, email=email, password=password)
    if user is None:
        limiter.login_failed(email, address)
        return _login_form(request, next_url=target, email=email, error="wrong", status=401)
    limiter.login_succeeded(email, address)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        sessions.issue(user.id),
        max_age=sessions.max_age_s,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.get("/logout")
def logout_page(request: Request, user: MaybeUserDep) -> Response:
    """A confirmation with the sign-out button (signing out changes state, so it is a POST)."""
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return render(request, "policies/logout.html", {}, user=user)


@router.post("/logout")
def logout_submit(user: MaybeUserDep, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    if user is not None:
        check_csrf(user, csrf)
    response = RedirectResponse("/login?signed_out=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
