"""The access pages (issue #7), server-rendered and usable without JavaScript.

This module holds the requester's side: the request form of a dataset and "my requests and grants" with the
user's API tokens; ``pages_steward`` holds the steward's inbox and the grant page, ``pages_audit`` the audit
view, ``pages_auth`` signing in and out. ``router`` gathers them all. Every page goes through the same
services as the REST API (``policies.access``), so the rules, the checks and the audit records are the same.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from ndx import i18n
from ndx.deps import SessionDep, SettingsDep
from ndx.errors import Invalid, NDXError
from policies import access, pages_audit, pages_auth, pages_steward, users
from policies.pages_auth import PageUser, UserDep, check_csrf, render
from policies.pages_forms import FormError, error_messages, filter_text, parse_days, parse_row_filter, tr
from policies.rules_model import DatasetRule
from policies.schemas_access import AccessRequestIn

TEMPLATE_DIR = pages_auth.TEMPLATE_DIR
MAX_DAYS = 365
LIST_LIMIT = 200
router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Strings = Annotated[list[str], Form()]
FormText = Annotated[str, Form(max_length=2000)]


def _request_form(
    request: Request,
    user: PageUser,
    rule: DatasetRule,
    *,
    values: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    values = values or {"fields": [], "purpose": "", "legal_basis": "", "case_ref": "", "days": "30", "row_filter": {}}
    context = {"rule": rule, "values": values, "errors": errors or [], "max_days": MAX_DAYS, "section": "datasets"}
    return render(request, "policies/request.html", context, user=user, status=status)


@router.get("/datasets/{name}/request")
def request_page(request: Request, name: str, user: UserDep) -> Response:
    rule = access.rule_of(name)
    access.authorize(user.caller, "request", rule=rule)
    return _request_form(request, user, rule)


@router.post("/datasets/{name}/request")
def request_submit(
    request: Request,
    name: str,
    user: UserDep,
    session: SessionDep,
    fields: Strings = [],  # noqa: B006  (FastAPI copies form defaults)
    purpose: FormText = "",
    legal_basis: FormText = "",
    case_ref: FormText = "",
    days: FormText = "",
    rf_col: Strings = [],  # noqa: B006
    rf_val: Strings = [],  # noqa: B006
    csrf: FormText = "",
) -> Response:
    check_csrf(user, csrf)
    rule = access.rule_of(name)
    lang = i18n.request_language(request)
    values: dict[str, Any] = {
        "fields": fields,
        "purpose": purpose,
        "legal_basis": legal_basis,
        "case_ref": case_ref,
        "days": days,
        "row_filter": dict(zip(rf_col, rf_val, strict=False)),
    }
    try:
        problems = []
        if not fields:
            problems.append(tr(lang, "Fields: tick at least one field you need."))
        if not purpose:
            problems.append(tr(lang, "Purpose: choose the purpose of your calls."))
        if not legal_basis.strip():
            problems.append(tr(lang, "Legal basis: name the law, decree or decision that allows this use."))
        if problems:
            raise FormError(problems)
        body = AccessRequestIn(
            dataset=rule.name,
            fields=fields,
            purpose=purpose,
            legal_basis=legal_basis.strip(),
            case_ref=case_ref.strip() or None,
            days=parse_days(days, lang=lang, maximum=MAX_DAYS) or 0,
            row_filter=parse_row_filter(rule, rf_col, rf_val, lang=lang) or None,
        )
        created = access.create_request(session=session, caller=user.caller, body=body)
    except (FormError, ValidationError, Invalid) as exc:
        session.rollback()
        return _request_form(request, user, rule, values=values, errors=error_messages(exc), status=422)
    return RedirectResponse(f"/me?created={created.id}#request-{created.id}", status_code=303)


def _me_page(
    request: Request,
    user: PageUser,
    session: Session,
    *,
    new_token: str | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    caller = user.caller
    reqs, _ = access.list_requests(
        session=session, caller=caller, status=None, dataset=None, limit=LIST_LIMIT, cursor=None
    )
    reqs = [r for r in reqs if r.org_code == caller.org]
    grants, _ = access.list_grants(
        session=session, caller=caller, status=None, dataset=None, limit=LIST_LIMIT, cursor=None
    )
    grants = [g for g in grants if g.org_code == caller.org]
    names = access.emails(session=session, ids=[r.requested_by for r in reqs] + [r.decided_by for r in reqs])
    created = request.query_params.get("created")
    context = {
        "requests": reqs,
        "grants": grants,
        "tokens": users.tokens_of(session=session, user_id=caller.user_id),
        "names": names,
        "new_token": new_token,
        "created": int(created) if created and created.isdigit() else None,
        "errors": errors or [],
        "filter_text": filter_text,
        "section": "me",
    }
    return render(request, "policies/me.html", context, user=user, status=status)


@router.get("/me")
def me_page(request: Request, user: UserDep, session: SessionDep) -> Response:
    return _me_page(request, user, session)


@router.post("/me/tokens")
def create_token(
    request: Request,
    user: UserDep,
    session: SessionDep,
    settings: SettingsDep,
    label: Annotated[str, Form(max_length=500)] = "",
    days: FormText = "",
    csrf: FormText = "",
) -> Response:
    """A new token, shown on this answer only (it is not in any URL and the page is not cached)."""
    check_csrf(user, csrf)
    lang = i18n.request_language(request)
    try:
        if len(label.strip()) > 100:
            raise FormError([tr(lang, "Label: at most 100 characters.")])
        valid_for = parse_days(days, lang=lang, maximum=3650, required=False) or settings.token_days
        _, clear = users.issue_token(
            session=session, by=user.caller, email=user.caller.email, days=valid_for, label=label.strip()
        )
    except (FormError, NDXError) as exc:
        session.rollback()
        return _me_page(request, user, session, errors=error_messages(exc), status=422)
    session.commit()
    return _me_page(request, user, session, new_token=clear)


@router.post("/me/tokens/{token_id}/revoke")
def revoke_my_token(token_id: int, user: UserDep, session: SessionDep, csrf: FormText = "") -> Response:
    check_csrf(user, csrf)
    users.revoke_token(session=session, by=user.caller, token_id=token_id, user_id=user.caller.user_id)
    session.commit()
    return RedirectResponse("/me#tokens", status_code=303)


router.include_router(pages_auth.router)
router.include_router(pages_steward.router)
router.include_router(pages_audit.router)
