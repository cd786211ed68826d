"""The steward's pages: the inbox of pending requests (approve as asked, narrow, or reject with a reason) and
the page of one grant (terms, history, usage from the audit log, and revoke / suspend / resume)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from ndx import i18n
from ndx.deps import SessionDep
from ndx.errors import Conflict, Forbidden, Invalid
from policies import access
from policies.decide import Action, Resource, decide
from policies.models import AccessRequest, Grant, utcnow
from policies.pages_auth import PageUser, UserDep, check_csrf, render
from policies.pages_forms import FormError, error_messages, filter_text, parse_days, parse_row_filter, tr
from policies.rules_model import dataset_rules
from policies.schemas_access import ApproveIn

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Strings = Annotated[list[str], Form()]
FormText = Annotated[str, Form(max_length=2000)]
LIMIT = 200
VERBS: dict[str, str] = {"revoke": "revoked", "suspend": "suspended", "resume": "active"}


def _may(user: PageUser, kind: Literal["decide_request", "manage_grant"], dataset: str, org: str) -> bool:
    rule = dataset_rules().get(dataset)
    actor = user.caller.actor()
    return decide(actor, Action(kind=kind, at=utcnow()), Resource(rule=rule, org=org)).allowed


def _inbox(
    request: Request,
    user: PageUser,
    session: Session,
    *,
    errors: dict[int, list[str]] | None = None,
    submitted: dict[int, dict[str, Any]] | None = None,
    status: int = 200,
) -> Response:
    caller = user.caller
    if caller.role not in ("steward", "admin"):
        raise Forbidden("the steward inbox is for stewards of the agencies that own datasets, and administrators")
    rows, _ = access.list_requests(session=session, caller=caller, status=None, dataset=None, limit=LIMIT, cursor=None)
    mine = [r for r in rows if _may(user, "decide_request", r.dataset, r.org_code)]
    pending = [r for r in mine if r.status == "pending"]
    decided = [r for r in mine if r.status != "pending"][:20]
    grants, _ = access.list_grants(session=session, caller=caller, status=None, dataset=None, limit=LIMIT, cursor=None)
    grants = [g for g in grants if _may(user, "manage_grant", g.dataset, g.org_code)]
    names = access.emails(session=session, ids=[r.requested_by for r in rows] + [r.decided_by for r in rows])
    done = request.query_params.get("done")
    context = {
        "pending": pending,
        "decided": decided,
        "grants": grants,
        "rules": dataset_rules(),
        "names": names,
        "errors": errors or {},
        "submitted": submitted or {},
        "done": done if done in ("approved", "rejected") else None,
        "done_id": request.query_params.get("request", ""),
        "filter_text": filter_text,
        "section": "steward",
    }
    return render(request, "policies/steward.html", context, user=user, status=status)


@router.get("/steward")
def steward_page(request: Request, user: UserDep, session: SessionDep) -> Response:
    return _inbox(request, user, session)


def _pending(session: Session, user: PageUser, request_id: int) -> AccessRequest:
    req = access.get_request(session=session, caller=user.caller, request_id=request_id)
    if req.status != "pending":
        raise Conflict(f"access request {req.id} is already {req.status}")
    return req


@router.post("/steward/requests/{request_id}/approve")
def approve(
    request: Request,
    request_id: int,
    user: UserDep,
    session: SessionDep,
    fields: Strings = [],  # noqa: B006  (FastAPI copies form defaults)
    days: FormText = "",
    rf_col: Strings = [],  # noqa: B006
    rf_val: Strings = [],  # noqa: B006
    note: FormText = "",
    csrf: FormText = "",
) -> Response:
    """Approve as asked, or narrowed: unticked fields, fewer days and a tighter row filter are all narrowing."""
    check_csrf(user, csrf)
    req = _pending(session, user, request_id)
    lang = i18n.request_language(request)
    rule = access.rule_of(req.dataset)
    submitted = {"fields": fields, "days": days, "row_filter": dict(zip(rf_col, rf_val, strict=False)), "note": note}
    try:
        if not fields:
            raise FormError([tr(lang, "Fields: keep at least one field, or reject the request instead.")])
        given_days = parse_days(days, lang=lang, maximum=req.days, required=False)
        row_filter = parse_row_filter(rule, rf_col, rf_val, lang=lang)
        body = ApproveIn(
            fields=None if sorted(fields) == sorted(req.fields) else fields,
            days=None if given_days == req.days else given_days,
            row_filter=None if row_filter == (req.row_filter or {}) else row_filter,
            note=note.strip() or None,
        )
        access.approve_request(session=session, caller=user.caller, request_id=req.id, body=body)
    except (FormError, ValidationError, Invalid) as exc:
        session.rollback()
        return _inbox(
            request, user, session, errors={req.id: error_messages(exc)}, submitted={req.id: submitted}, status=422
        )
    return RedirectResponse(f"/steward?done=approved&request={req.id}", status_code=303)


@router.post("/steward/requests/{request_id}/reject")
def reject(
    request: Request, request_id: int, user: UserDep, session: SessionDep, reason: FormText = "", csrf: FormText = ""
) -> Response:
    check_csrf(user, csrf)
    req = _pending(session, user, request_id)
    lang = i18n.request_language(request)
    if not reason.strip():
        message = tr(lang, "Reason: say why the request is rejected; the requester will read it.")
        return _inbox(
            request, user, session, errors={req.id: [message]}, submitted={req.id: {"reject": True}}, status=422
        )
    access.reject_request(session=session, caller=user.caller, request_id=req.id, reason=reason.strip()[:1000])
    return RedirectResponse(f"/steward?done=rejected&request={req.id}", status_code=303)


def _grant_page(
    request: Request,
    user: PageUser,
    session: Session,
    grant: Grant,
    *,
    errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "grant": grant,
        "rule": dataset_rules().get(grant.dataset),
        "events": access.grant_events(session=session, grant_id=grant.id),
        "usage": access.grant_usage(session=session, grant_id=grant.id),
        "source_request": session.get(AccessRequest, grant.request_id),
        "may_manage": _may(user, "manage_grant", grant.dataset, grant.org_code),
        "transitions": sorted(access.TRANSITIONS.get(grant.status, set())),
        "errors": errors or [],
        "filter_text": filter_text,
        "done": request.query_params.get("done"),
        "section": "grants",
    }
    return render(request, "policies/grant.html", context, user=user, status=status)


@router.get("/grants/{grant_id}")
def grant_page(request: Request, grant_id: int, user: UserDep, session: SessionDep) -> Response:
    return _grant_page(request, user, session, access.get_grant(session=session, caller=user.caller, grant_id=grant_id))


@router.post("/grants/{grant_id}/{verb}")
def change_grant(
    request: Request,
    grant_id: int,
    verb: Literal["revoke", "suspend", "resume"],
    user: UserDep,
    session: SessionDep,
    reason: FormText = "",
    csrf: FormText = "",
) -> Response:
    """Revoke for good, suspend, or resume (owning steward or admin), with a reason kept in the history."""
    check_csrf(user, csrf)
    grant = access.get_grant(session=session, caller=user.caller, grant_id=grant_id)
    if not reason.strip():
        message = tr(i18n.request_language(request), "Reason: say why; it is kept in the grant's history.")
        return _grant_page(request, user, session, grant, errors=[message], status=422)
    access.transition_grant(
        session=session, caller=user.caller, grant_id=grant.id, to=VERBS[verb], reason=reason.strip()[:1000]
    )
    return RedirectResponse(f"/grants/{grant.id}?done={verb}", status_code=303)
