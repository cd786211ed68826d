"""The audit view: stewards see their own calls and every record about the datasets their agency owns;
agencies' developers see their organization's calls; administrators everything (decide says which)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy.engine import Engine

from ndx import i18n
from ndx.deps import SessionDep
from ndx.errors import Invalid
from ndx.web import attachment
from policies import audit_views
from policies.access import authorize
from policies.audit_anchors import ANCHOR_EVERY, copy_line, list_anchors
from policies.models import AuditRecord, utcnow
from policies.pages_auth import MaybeUserDep, UserDep, render
from policies.pages_forms import tr
from policies.rules_model import dataset_rules

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
KINDS = ("query", "verify", "decision", "admin", "subject_read")
PAGE = 50
Text = Annotated[str, Query(max_length=500)]


def _row(rec: AuditRecord) -> dict[str, Any]:
    body = audit_views.record_body(rec)
    return {
        "seq": rec.seq,
        "at": rec.at,
        "kind": rec.kind,
        "org": rec.org_code,
        "user": body.get("user"),
        "dataset": rec.dataset,
        "action": body.get("action"),
        "purpose": body.get("purpose"),
        "case": body.get("case"),
        "fields": body.get("fields") or [],
        "rows": rec.row_count,
        "status": rec.status,
        "grant_id": rec.grant_id,
        "request_id": rec.request_id,
        "error": (body.get("detail") or {}).get("error"),
    }


@router.get("/audit")
def audit_page(
    request: Request,
    user: UserDep,
    session: SessionDep,
    dataset: Text = "",
    org: Text = "",
    kind: Text = "",
    grant_id: Text = "",
    request_id: Text = "",
    cursor: Annotated[str, Query(max_length=2000)] = "",
) -> Response:
    lang = i18n.request_language(request)
    filters = {"dataset": dataset, "org": org, "kind": kind, "grant_id": grant_id, "request_id": request_id}
    errors: list[str] = []
    if kind and kind not in KINDS:
        errors.append(tr(lang, "Kind: choose one of the listed kinds."))
    grant = grant_id.strip()
    if grant and not (grant.isascii() and grant.isdigit() and 0 < int(grant) < 2**31):
        errors.append(tr(lang, "Grant: a grant number, such as 12."))
    rows: list[AuditRecord] = []
    nxt: str | None = None
    if not errors:
        try:
            rows, nxt = audit_views.list_audit(
                session=session,
                caller=user.caller,
                dataset=dataset.strip() or None,
                org=org.strip().lower() or None,
                kind=kind or None,
                request_id=request_id.strip() or None,
                grant_id=int(grant) if grant else None,
                limit=PAGE,
                cursor=cursor or None,
            )
        except Invalid as exc:
            errors.append(exc.message)
    scope = authorize(user.caller, "read_audit").scope
    base = {k: v for k, v in filters.items() if v}
    context = {
        "rows": [_row(r) for r in rows],
        "filters": filters,
        "kinds": KINDS,
        "datasets": sorted(dataset_rules()),
        "scope": scope,
        "errors": errors,
        "next_query": {**base, "cursor": nxt} if nxt else None,
        "first_query": base if cursor else None,
        "section": "audit",
    }
    return render(request, "policies/audit.html", context, user=user, status=422 if errors else 200)


@router.get("/audit/bundles/{request_id}")
def audit_bundle_download(
    request_id: Annotated[str, Path(max_length=64)], user: UserDep, session: SessionDep
) -> Response:
    """The evidence bundle of one call in the audit view, zipped (``audit_views.evidence_bundle``)."""
    name, content = audit_views.evidence_bundle(session=session, caller=user.caller, request_id=request_id)
    return attachment(content, filename=name, media_type="application/zip")


ANCHORS_PAGE = 100


@router.get("/audit/anchors")
def anchors_page(
    request: Request,
    session: SessionDep,
    user: MaybeUserDep,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> Response:
    """The chain's anchors, for anyone: what an auditor copies now to check evidence against later."""
    anchors = list_anchors(session.connection(), after=after, limit=ANCHORS_PAGE)
    context = {
        "anchors": anchors,
        "every": ANCHOR_EVERY,
        "after": after,
        "older": anchors[-1].seq if len(anchors) == ANCHORS_PAGE else None,
        "section": "audit",
    }
    return render(request, "policies/anchors.html", context, user=user)


@router.get("/audit/anchors.txt")
def anchors_text(request: Request) -> StreamingResponse:
    """Every anchor, oldest first, one ``SEQ HASH TIME`` line each: the file ``ndx audit verify --anchors``
    reads. Streamed a thousand at a time on a connection of its own (the request's session is gone by then)."""
    engine: Engine = request.app.state.engine

    def lines() -> Iterator[str]:
        yield f"# NDX audit chain anchors (every {ANCHOR_EVERY}th record), taken {utcnow().isoformat()}\n"
        after = 0
        with engine.connect() as conn:
            while page := list_anchors(conn, after=after, limit=1000):
                yield "".join(copy_line(a) for a in page)
                after = page[-1].seq

    return StreamingResponse(
        lines(),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="ndx-audit-anchors.txt"'},
    )
