"""Reading the audit log: who sees which records (decide gives the scope), and who read one person's data."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from ndx.errors import Invalid, NotFound
from policies import audit
from policies.access import authorize
from policies.audit_bundle import build_bundle, bundle_zip
from policies.audit_subjects import subject_seqs
from policies.auth import Caller
from policies.models import AuditRecord, utcnow
from policies.paging import check_limit, encode_cursor, int_cursor
from policies.rules_model import dataset_rules

CITIZEN_ID = r"^[0-9]{12}$"


def _owned(org: str) -> list[str]:
    return sorted(name for name, rule in dataset_rules().items() if rule.owner == org)


def _scope(caller: Caller, scope: str, *, own_calls: bool) -> ColumnElement[bool] | None:
    if scope == "all":
        return None
    owned = AuditRecord.dataset.in_(_owned(caller.org))
    if scope == "owner_and_org":
        return or_(AuditRecord.org_code == caller.org, owned) if own_calls else owned
    return AuditRecord.org_code == caller.org


def list_audit(
    *,
    session: Session,
    caller: Caller,
    dataset: str | None = None,
    org: str | None = None,
    kind: str | None = None,
    request_id: str | None = None,
    grant_id: int | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> tuple[list[AuditRecord], str | None]:
    decision = authorize(caller, "read_audit")
    limit = check_limit(limit)
    after = int_cursor(cursor)
    q = select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(limit + 1)
    cond = _scope(caller, decision.scope, own_calls=True)
    if cond is not None:
        q = q.where(cond)
    for column, value in (
        (AuditRecord.dataset, dataset),
        (AuditRecord.org_code, org),
        (AuditRecord.kind, kind),
        (AuditRecord.request_id, request_id),
        (AuditRecord.grant_id, grant_id),
    ):
        if value is not None:
            q = q.where(column == value)
    if after is not None:
        q = q.where(AuditRecord.seq < after)
    rows = list(session.scalars(q))
    nxt = encode_cursor(rows[limit - 1].seq) if len(rows) > limit else None
    return rows[:limit], nxt


def evidence_bundle(*, session: Session, caller: Caller, request_id: str) -> tuple[str, bytes]:
    """The evidence bundle of one call as a zip archive, and its file name, for whoever may see the call's
    records in the audit log (admins; stewards for their datasets and own calls; agencies their own calls).
    A call the caller may not see is as unknown as one that never happened (404)."""
    decision = authorize(caller, "read_audit")
    q = select(AuditRecord.seq).where(AuditRecord.request_id == request_id).limit(1)
    cond = _scope(caller, decision.scope, own_calls=True)
    if cond is not None:
        q = q.where(cond)
    if session.scalar(q) is None:
        raise NotFound(f"no audit record has request id {request_id!r}")
    _, files = build_bundle(session.connection(), request_id)
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in request_id)
    return f"ndx-evidence-{safe}.zip", bundle_zip(files)


def record_body(rec: AuditRecord) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(rec.payload)
    return data


def subject_reads(
    *, session: Session, caller: Caller, citizen_id: str, request_id: str | None, limit: int | None, cursor: str | None
) -> tuple[list[AuditRecord], str | None]:
    """Every audited read of one person's records that the caller may see; this read is audited too."""
    decision = authorize(caller, "read_subject")
    if not citizen_id.isascii() or not citizen_id.isdigit() or len(citizen_id) != 12:
        raise Invalid("citizen_id: 12 digits")
    limit = check_limit(limit)
    after = int_cursor(cursor)
    q = (
        select(AuditRecord)
        .where(AuditRecord.seq.in_(subject_seqs(citizen_id)), AuditRecord.kind.in_(("query", "verify")))
        .order_by(AuditRecord.seq.desc())
        .limit(limit + 1)
    )
    cond = _scope(caller, decision.scope, own_calls=False)
    if cond is not None:
        q = q.where(cond)
    if after is not None:
        q = q.where(AuditRecord.seq < after)
    rows = list(session.scalars(q))
    entry = audit.AuditEntry(
        kind="subject_read",
        at=utcnow(),
        status=200,
        request_id=request_id,
        user_id=caller.user_id,
        user=caller.email,
        org_code=caller.org,
        action="GET /subjects/{citizen_id}/reads",
        row_count=min(len(rows), limit),
        subjects=[citizen_id],
        detail={"scope": decision.scope},
    )
    audit.append(session.connection(), [entry])
    session.commit()
    nxt = encode_cursor(rows[limit - 1].seq) if len(rows) > limit else None
    return rows[:limit], nxt
