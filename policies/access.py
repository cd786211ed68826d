"""Access requests, stewards' decisions and grants: plain functions over a session, no web framework.

Every change and its audit record are committed in one transaction, so nothing is half-written: a request
that fails validation writes nothing; an approval writes the grant, its first event, the request's new
state and the audit record together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from ndx.errors import Conflict, Forbidden, Invalid, NDXError, NotFound, Unauthenticated
from policies.audit_actions import record_action
from policies.auth import Caller
from policies.decide import Action, ActionKind, Decision, Resource, decide
from policies.models import AccessRequest, AuditRecord, Grant, GrantEvent, User, utcnow
from policies.paging import check_limit, encode_cursor, int_cursor
from policies.rules_model import DatasetRule, dataset_rules
from policies.schemas_access import AccessRequestIn, ApproveIn

TRANSITIONS: dict[str, set[str]] = {"active": {"suspended", "revoked"}, "suspended": {"active", "revoked"}}


def rule_of(name: str) -> DatasetRule:
    rule = dataset_rules().get(name)
    if rule is None:
        raise NotFound(f"dataset {name!r} does not exist")
    return rule


def _require(decision: Decision) -> Decision:
    if decision.allowed:
        return decision
    raise denial(decision)


def denial(decision: Decision) -> NDXError:
    """The domain error of a denied decision (its status and reason)."""
    if decision.status == 401:
        return Unauthenticated(decision.reason)
    if decision.status == 404:
        return NotFound(decision.reason)
    if decision.status == 422:
        return Invalid(decision.reason)
    details = {"denied_fields": list(decision.denied_fields)} if decision.denied_fields else None
    return Forbidden(decision.reason, details=details)


def authorize(caller: Caller, kind: ActionKind, *, rule: DatasetRule | None = None, org: str | None = None) -> Decision:
    """decide() for a caller, raising the decision's error when it is a denial."""
    return _require(decide(caller.actor(), Action(kind=kind, at=utcnow()), Resource(rule=rule, org=org)))


def _audit(session: Session, caller: Caller | None, *, action: str, status: int = 200, **kw: Any) -> None:
    record_action(session, caller, action=action, status=status, kind=kw.pop("kind", "decision"), **kw)


def check_row_filter(rule: DatasetRule, row_filter: dict[str, list[str]] | None, where: str) -> dict[str, list[str]]:
    """A row filter over declared filter columns (columns AND, values OR); another column is a 422 naming it."""
    row_filter = row_filter or {}
    bad = sorted(c for c in row_filter if c not in rule.filter_columns)
    if bad:
        raise Invalid(
            f"{where}: cannot filter on {', '.join(bad)}; "
            f"filter columns of {rule.name}: {', '.join(rule.filter_columns)}",
            details={"columns": bad},
        )
    return {c: sorted(set(v)) for c, v in row_filter.items()}


def create_request(*, session: Session, caller: Caller, body: AccessRequestIn) -> AccessRequest:
    rules = dataset_rules()
    rule = rules.get(body.dataset)
    if rule is None:
        raise Invalid(f"dataset: no dataset is called {body.dataset!r}")
    authorize(caller, "request", rule=rule)
    unknown = sorted(set(body.fields) - set(rule.fields))
    if unknown:
        raise Invalid(f"fields: {rule.name} has no field {', '.join(unknown)}", details={"fields": unknown})
    purpose = rule.purpose(body.purpose)
    if purpose is None:
        codes = ", ".join(p.code for p in rule.purposes)
        raise Invalid(f"purpose: {body.purpose!r} is not a purpose of {rule.name} ({codes})")
    row_filter = check_row_filter(rule, body.row_filter, "row_filter")
    req = AccessRequest(
        dataset=rule.name,
        owner_code=rule.owner,
        org_code=caller.org,
        requested_by=caller.user_id,
        fields=[f for f in rule.fields if f in set(body.fields)],
        purpose=purpose.code,
        legal_basis=body.legal_basis,
        case_ref=body.case_ref or None,
        days=body.days,
        row_filter=row_filter,
        status="pending",
        created_at=utcnow(),
    )
    session.add(req)
    session.flush()
    _audit(
        session,
        caller,
        action="request",
        dataset=rule.name,
        fields=req.fields,
        filter=row_filter,
        purpose=req.purpose,
        case=req.case_ref,
        detail={"access_request": req.id, "days": req.days},
    )
    session.commit()
    return req


def _visible(caller: Caller, owner_col: Any, org_col: Any) -> ColumnElement[bool] | None:
    if caller.role == "admin":
        return None
    if caller.role == "steward":
        return or_(org_col == caller.org, owner_col == caller.org)
    return org_col == caller.org  # type: ignore[no-any-return]


def list_requests(
    *, session: Session, caller: Caller, status: str | None, dataset: str | None, limit: int | None, cursor: str | None
) -> tuple[list[AccessRequest], str | None]:
    return _page_visible(session, AccessRequest, caller, status=status, dataset=dataset, limit=limit, cursor=cursor)


_Listed = TypeVar("_Listed", AccessRequest, Grant)


def _page_visible(
    session: Session,
    model: type[_Listed],
    caller: Caller,
    *,
    status: str | None,
    dataset: str | None,
    limit: int | None,
    cursor: str | None,
) -> tuple[list[_Listed], str | None]:
    """Newest first, only what the caller may see (its own agency's, or its datasets' as owner), keyset-paged."""
    limit = check_limit(limit)
    after = int_cursor(cursor)
    q = select(model).order_by(model.id.desc()).limit(limit + 1)
    cond = _visible(caller, model.owner_code, model.org_code)
    if cond is not None:
        q = q.where(cond)
    if status:
        q = q.where(model.status == status)
    if dataset:
        q = q.where(model.dataset == dataset)
    if after is not None:
        q = q.where(model.id < after)
    rows = list(session.scalars(q))
    nxt = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], nxt


def get_request(*, session: Session, caller: Caller, request_id: int) -> AccessRequest:
    return _seen_by(caller, session.get(AccessRequest, request_id), f"access request {request_id}")


def _seen_by(caller: Caller, item: _Listed | None, what: str) -> _Listed:
    """``item`` if the caller may see it; a missing one and another agency's one are the same 404."""
    if item is None:
        raise NotFound(f"{what} does not exist")
    try:
        authorize(caller, "view_request", rule=dataset_rules().get(item.dataset), org=item.org_code)
    except NotFound:
        raise NotFound(f"{what} does not exist") from None
    return item


def _narrow_filter(
    rule: DatasetRule, asked: dict[str, list[str]], given: dict[str, list[str]] | None
) -> dict[str, list[str]]:
    if given is None:
        return asked
    given = check_row_filter(rule, given, "row_filter")
    for col, values in asked.items():
        if col not in given:
            raise Invalid(f"row_filter: would widen the request: it asked only for {col} in {', '.join(values)}")
        wider = sorted(set(given[col]) - set(values))
        if wider:
            raise Invalid(f"row_filter: would widen the request: {col} values {', '.join(wider)} were not asked for")
    return given


def approve_request(*, session: Session, caller: Caller, request_id: int, body: ApproveIn) -> AccessRequest:
    req = get_request(session=session, caller=caller, request_id=request_id)
    rule = rule_of(req.dataset)
    authorize(caller, "decide_request", rule=rule, org=req.org_code)
    if req.status != "pending":
        raise Conflict(f"access request {req.id} is already {req.status}")
    fields = req.fields
    if body.fields is not None:
        wider = sorted(set(body.fields) - set(req.fields))
        if wider:
            raise Invalid(
                f"fields: would widen the request: {', '.join(wider)} were not asked for", details={"fields": wider}
            )
        fields = [f for f in req.fields if f in set(body.fields)]
    days = req.days
    if body.days is not None:
        if body.days > req.days:
            raise Invalid(f"days: would widen the request: it asked for {req.days} days")
        days = body.days
    row_filter = _narrow_filter(rule, req.row_filter or {}, body.row_filter)
    now = utcnow()
    grant = Grant(
        request_id=req.id,
        dataset=req.dataset,
        owner_code=req.owner_code,
        org_code=req.org_code,
        fields=fields,
        purposes=[req.purpose],
        row_filter=row_filter,
        legal_basis=req.legal_basis,
        status="active",
        starts_at=now,
        expires_at=now + timedelta(days=days),
        created_by=caller.user_id,
        created_at=now,
    )
    session.add(grant)
    session.flush()
    session.add(
        GrantEvent(
            grant_id=grant.id,
            from_status=None,
            to_status="active",
            actor_id=caller.user_id,
            reason=body.note or "approved",
            at=now,
        )
    )
    req.status, req.decided_by, req.decided_at, req.decision_note, req.grant_id = (
        "approved",
        caller.user_id,
        now,
        body.note,
        grant.id,
    )
    _audit(
        session,
        caller,
        action="approve",
        dataset=req.dataset,
        grant_id=grant.id,
        fields=fields,
        filter=row_filter,
        purpose=req.purpose,
        detail={"access_request": req.id, "for_org": req.org_code, "days": days, "note": body.note},
    )
    session.commit()
    return req


def reject_request(*, session: Session, caller: Caller, request_id: int, reason: str) -> AccessRequest:
    req = get_request(session=session, caller=caller, request_id=request_id)
    authorize(caller, "decide_request", rule=rule_of(req.dataset), org=req.org_code)
    if req.status != "pending":
        raise Conflict(f"access request {req.id} is already {req.status}")
    req.status, req.decided_by, req.decided_at, req.decision_note = "rejected", caller.user_id, utcnow(), reason
    _audit(
        session,
        caller,
        action="reject",
        dataset=req.dataset,
        detail={"access_request": req.id, "for_org": req.org_code, "reason": reason},
    )
    session.commit()
    return req


# --- grants ------------------------------------------------------------------------------------------------


def expire_due(*, session: Session, now: datetime | None = None) -> int:
    """Record the expiry of grants whose period has ended (decide already refuses them); commits."""
    now = now or utcnow()
    due = list(session.scalars(select(Grant).where(Grant.status.in_(("active", "suspended")), Grant.expires_at <= now)))
    for g in due:
        session.add(
            GrantEvent(
                grant_id=g.id,
                from_status=g.status,
                to_status="expired",
                actor_id=None,
                reason="the granted period ended",
                at=now,
            )
        )
        g.status = "expired"
    if due:
        session.commit()
    return len(due)


def list_grants(
    *, session: Session, caller: Caller, status: str | None, dataset: str | None, limit: int | None, cursor: str | None
) -> tuple[list[Grant], str | None]:
    expire_due(session=session)
    return _page_visible(session, Grant, caller, status=status, dataset=dataset, limit=limit, cursor=cursor)


def get_grant(*, session: Session, caller: Caller, grant_id: int) -> Grant:
    expire_due(session=session)
    return _seen_by(caller, session.get(Grant, grant_id), f"grant {grant_id}")


def grant_events(*, session: Session, grant_id: int) -> list[tuple[GrantEvent, str | None]]:
    rows = session.execute(
        select(GrantEvent, User.email)
        .outerjoin(User, User.id == GrantEvent.actor_id)
        .where(GrantEvent.grant_id == grant_id)
        .order_by(GrantEvent.id)
    ).all()
    return [(r[0], r[1]) for r in rows]


def grant_usage(*, session: Session, grant_id: int) -> dict[str, int]:
    reads = and_(AuditRecord.grant_id == grant_id, AuditRecord.kind.in_(("query", "verify")))
    calls = session.scalar(select(func.count()).where(reads)) or 0
    answered, rows = session.execute(
        select(func.count(), func.coalesce(func.sum(AuditRecord.row_count), 0)).where(reads, AuditRecord.status == 200)
    ).one()
    return {"calls": int(calls), "answered": int(answered), "rows": int(rows)}


def transition_grant(*, session: Session, caller: Caller, grant_id: int, to: str, reason: str) -> Grant:
    grant = get_grant(session=session, caller=caller, grant_id=grant_id)
    authorize(caller, "manage_grant", rule=rule_of(grant.dataset), org=grant.org_code)
    if to not in TRANSITIONS.get(grant.status, set()):
        raise Conflict(f"grant {grant.id} is {grant.status}: it cannot become {to}")
    now = utcnow()
    session.add(
        GrantEvent(
            grant_id=grant.id, from_status=grant.status, to_status=to, actor_id=caller.user_id, reason=reason, at=now
        )
    )
    previous, grant.status = grant.status, to
    verb = {"revoked": "revoke", "suspended": "suspend", "active": "resume"}[to]
    _audit(
        session,
        caller,
        action=verb,
        dataset=grant.dataset,
        grant_id=grant.id,
        detail={"from": previous, "to": to, "reason": reason, "for_org": grant.org_code},
    )
    session.commit()
    return grant


def emails(*, session: Session, ids: Sequence[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u.email for u in session.scalars(select(User).where(User.id.in_(wanted)))}


def reload_policies(*, session: Session, caller: Caller) -> list[str]:
    """Re-read the policy files (admins only); a broken file leaves the running rules in place."""
    authorize(caller, "admin")
    from policies.rules_files import RulesError
    from policies.rules_model import load_dataset_rules

    try:
        fresh = load_dataset_rules()
    except RulesError as exc:
        raise Invalid(f"policy files not reloaded: {exc}") from None
    dataset_rules.cache_clear()
    names = sorted(dataset_rules())
    _audit(session, caller, kind="admin", action="reload-policies", detail={"datasets": sorted(fresh)})
    session.commit()
    return names
