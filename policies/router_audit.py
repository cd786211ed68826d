"""HTTP routes of the audit log and of "who read my data" (thin)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from ndx.deps import SessionDep
from ndx.observability import request_id_of
from ndx.web import attachment, error_responses
from policies import audit_views
from policies.audit_anchors import list_anchors
from policies.dependencies import CallerDep
from policies.models import AuditRecord
from policies.paging import check_limit, encode_cursor, int_cursor
from policies.schemas_access import AnchorList, AnchorOut, AuditList, AuditRecordOut, SubjectReadList, SubjectReadOut

router = APIRouter(prefix="/api/v1", tags=["audit"])
Limit = Annotated[int | None, Query(ge=1, le=1000)]
Cursor = Annotated[str | None, Query(max_length=500)]
Kind = Literal["query", "verify", "decision", "admin", "subject_read"]


def record_out(rec: AuditRecord) -> AuditRecordOut:
    return AuditRecordOut(
        seq=rec.seq,
        hash=rec.hash,
        prev_hash=rec.prev_hash,
        at=rec.at,
        kind=rec.kind,
        request_id=rec.request_id,
        org=rec.org_code,
        dataset=rec.dataset,
        grant_id=rec.grant_id,
        status=rec.status,
        record=audit_views.record_body(rec),
    )


@router.get("/audit", response_model=AuditList, responses=error_responses(401, 422))
def list_audit(
    caller: CallerDep,
    session: SessionDep,
    dataset: Annotated[str | None, Query(max_length=80)] = None,
    org: Annotated[str | None, Query(max_length=40)] = None,
    kind: Kind | None = None,
    request_id: Annotated[str | None, Query(max_length=64)] = None,
    grant_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> AuditList:
    """Audit records, newest first: admins all; stewards their organization's calls and their datasets'
    records; developers their organization's calls."""
    rows, nxt = audit_views.list_audit(
        session=session,
        caller=caller,
        dataset=dataset,
        org=org,
        kind=kind,
        request_id=request_id,
        grant_id=grant_id,
        limit=limit,
        cursor=cursor,
    )
    return AuditList(items=[record_out(r) for r in rows], next_cursor=nxt)


@router.get("/audit/anchors", response_model=AnchorList, responses=error_responses(422))
def audit_anchors(session: SessionDep, limit: Limit = None, cursor: Cursor = None) -> AnchorList:
    """The audit chain's anchors, oldest first: every 10,000th record's sequence number, hash and time.
    Public, so that anyone can keep copies; an evidence bundle (``ndx audit export``) ends at one of them.
    A hash reveals nothing of the call it closes."""
    after, size = int_cursor(cursor) or 0, check_limit(limit)
    anchors = list_anchors(session.connection(), after=after, limit=size)
    nxt = encode_cursor(anchors[-1].seq) if len(anchors) == size else None
    return AnchorList(items=[AnchorOut(seq=a.seq, hash=a.hash, at=a.at) for a in anchors], next_cursor=nxt)


@router.get(
    "/audit/bundles/{request_id}",
    response_class=Response,
    responses={
        200: {"content": {"application/zip": {}}, "description": "The evidence bundle (zip)."},
        **error_responses(401, 404, 422),
    },
)
def audit_bundle(
    request_id: Annotated[str, Path(min_length=1, max_length=64)], caller: CallerDep, session: SessionDep
) -> Response:
    """The evidence bundle of one call (``X-NDX-Request-Id``), as ``ndx audit export`` writes it, zipped:
    its records, and the chain segment up to the next anchor with the other calls by payload digest only.
    Check it with ``ndx audit verify --bundle FILE.zip``. For whoever may see the call in ``/audit``."""
    name, content = audit_views.evidence_bundle(session=session, caller=caller, request_id=request_id)
    return attachment(content, filename=name, media_type="application/zip")


@router.get("/subjects/{citizen_id}/reads", response_model=SubjectReadList, responses=error_responses(401, 403, 422))
def subject_reads(
    citizen_id: Annotated[str, Path(min_length=12, max_length=12, pattern=r"^[0-9]{12}$")],
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    limit: Limit = None,
    cursor: Cursor = None,
) -> SubjectReadList:
    """Every read of one person's records (agency, when, purpose, case, fields): admins, and stewards for
    the datasets their organization owns. This read is itself audited."""
    rows, nxt = audit_views.subject_reads(
        session=session,
        caller=caller,
        citizen_id=citizen_id,
        request_id=request_id_of(request.scope),
        limit=limit,
        cursor=cursor,
    )
    items = []
    for rec in rows:
        body = audit_views.record_body(rec)
        items.append(
            SubjectReadOut(
                seq=rec.seq,
                at=rec.at,
                kind=rec.kind,
                org=rec.org_code,
                user=body.get("user"),
                dataset=rec.dataset,
                purpose=body.get("purpose"),
                case=body.get("case"),
                fields=list(body.get("fields") or []),
                status=rec.status,
            )
        )
    return SubjectReadList(items=items, next_cursor=nxt)
