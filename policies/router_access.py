"""HTTP routes of access requests, grants, the caller's account and tokens, and policy reloads (thin)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from sqlalchemy.orm import Session

from ndx.deps import SessionDep, SettingsDep
from ndx.web import error_responses
from policies import access, users
from policies.dependencies import CallerDep
from policies.models import AccessRequest, Grant
from policies.schemas_access import (
    AccessRequestIn,
    AccessRequestList,
    AccessRequestOut,
    ApproveIn,
    GrantEventOut,
    GrantList,
    GrantOut,
    MeOut,
    NewTokenOut,
    ReasonIn,
    ReloadOut,
    TokenIn,
    TokenList,
    TokenOut,
)

router = APIRouter(prefix="/api/v1", tags=["access"])
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]
Limit = Annotated[int | None, Query(ge=1, le=1000)]
Cursor = Annotated[str | None, Query(max_length=500)]
DatasetQ = Annotated[str | None, Query(max_length=80)]
READ = error_responses(401, 422)
ONE = error_responses(401, 404, 422)
CHANGE = error_responses(400, 401, 403, 404, 409, 422, 503)


def grant_out(session: Session, grant: Grant, *, details: bool = False) -> GrantOut:
    events = []
    if details:
        events = [
            GrantEventOut(from_status=e.from_status, to_status=e.to_status, actor=who, reason=e.reason, at=e.at)
            for e, who in access.grant_events(session=session, grant_id=grant.id)
        ]
    return GrantOut(
        id=grant.id,
        request_id=grant.request_id,
        dataset=grant.dataset,
        org=grant.org_code,
        owner=grant.owner_code,
        fields=grant.fields,
        purposes=grant.purposes,
        row_filter=grant.row_filter or {},
        legal_basis=grant.legal_basis,
        status=grant.status,
        starts_at=grant.starts_at,
        expires_at=grant.expires_at,
        created_at=grant.created_at,
        events=events,
        usage=access.grant_usage(session=session, grant_id=grant.id) if details else None,
    )


def request_out(session: Session, req: AccessRequest, names: dict[int, str] | None = None) -> AccessRequestOut:
    names = names if names is not None else access.emails(session=session, ids=[req.requested_by, req.decided_by])
    grant = session.get(Grant, req.grant_id) if req.grant_id else None
    return AccessRequestOut(
        id=req.id,
        dataset=req.dataset,
        org=req.org_code,
        owner=req.owner_code,
        requested_by=names.get(req.requested_by, str(req.requested_by)),
        fields=req.fields,
        purpose=req.purpose,
        legal_basis=req.legal_basis,
        case_ref=req.case_ref,
        days=req.days,
        row_filter=req.row_filter or {},
        status=req.status,
        created_at=req.created_at,
        decided_by=names.get(req.decided_by) if req.decided_by else None,
        decided_at=req.decided_at,
        note=req.decision_note,
        grant=grant_out(session, grant) if grant else None,
    )


@router.get("/me", response_model=MeOut, responses=error_responses(401), tags=["account"])
def me(caller: CallerDep) -> MeOut:
    """Who the token belongs to."""
    return MeOut(id=caller.user_id, email=caller.email, org=caller.org, role=caller.role)


@router.get("/me/tokens", response_model=TokenList, responses=error_responses(401), tags=["account"])
def my_tokens(caller: CallerDep, session: SessionDep) -> TokenList:
    """The caller's API tokens (never the tokens themselves: only their hashes are kept)."""
    rows = users.tokens_of(session=session, user_id=caller.user_id)
    return TokenList(items=[TokenOut.model_validate(t, from_attributes=True) for t in rows])


@router.post(
    "/me/tokens",
    status_code=201,
    response_model=NewTokenOut,
    responses=error_responses(400, 401, 422),
    tags=["account"],
)
def create_my_token(body: TokenIn, caller: CallerDep, session: SessionDep, settings: SettingsDep) -> NewTokenOut:
    """A new token for the caller, shown in this answer only."""
    row, clear = users.issue_token(
        session=session, by=caller, email=caller.email, days=body.days or settings.token_days, label=body.label
    )
    session.commit()
    return NewTokenOut(token=clear, **TokenOut.model_validate(row, from_attributes=True).model_dump())


@router.post(
    "/me/tokens/{token_id}/revoke", response_model=TokenOut, responses=error_responses(401, 404, 422), tags=["account"]
)
def revoke_my_token(token_id: Id, caller: CallerDep, session: SessionDep) -> TokenOut:
    """Revoke one of the caller's tokens; it stops working on the next call."""
    row = users.revoke_token(session=session, by=caller, token_id=token_id, user_id=caller.user_id)
    session.commit()
    return TokenOut.model_validate(row, from_attributes=True)


@router.post("/access-requests", status_code=201, response_model=AccessRequestOut, responses=CHANGE)
def create_access_request(body: AccessRequestIn, caller: CallerDep, session: SessionDep) -> AccessRequestOut:
    """Ask the owning agency for fields of a dataset, for a purpose, on a legal basis, for some days."""
    return request_out(session, access.create_request(session=session, caller=caller, body=body))


@router.get("/access-requests", response_model=AccessRequestList, responses=READ)
def list_access_requests(
    caller: CallerDep,
    session: SessionDep,
    status: Literal["pending", "approved", "rejected"] | None = None,
    dataset: DatasetQ = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> AccessRequestList:
    """Requests the caller may see: their organization's, and (stewards) those for datasets it owns."""
    rows, nxt = access.list_requests(
        session=session, caller=caller, status=status, dataset=dataset, limit=limit, cursor=cursor
    )
    names = access.emails(session=session, ids=[r.requested_by for r in rows] + [r.decided_by for r in rows])
    return AccessRequestList(items=[request_out(session, r, names) for r in rows], next_cursor=nxt)


@router.get("/access-requests/{request_id}", response_model=AccessRequestOut, responses=ONE)
def get_access_request(request_id: Id, caller: CallerDep, session: SessionDep) -> AccessRequestOut:
    """One access request (404 for requests of other agencies)."""
    return request_out(session, access.get_request(session=session, caller=caller, request_id=request_id))


@router.post("/access-requests/{request_id}/approve", response_model=AccessRequestOut, responses=CHANGE)
def approve_access_request(request_id: Id, body: ApproveIn, caller: CallerDep, session: SessionDep) -> AccessRequestOut:
    """Approve (owning steward): optionally fewer fields, a tighter row filter, fewer days. Creates the grant."""
    req = access.approve_request(session=session, caller=caller, request_id=request_id, body=body)
    return request_out(session, req)


@router.post("/access-requests/{request_id}/reject", response_model=AccessRequestOut, responses=CHANGE)
def reject_access_request(request_id: Id, body: ReasonIn, caller: CallerDep, session: SessionDep) -> AccessRequestOut:
    """Reject (owning steward) with a reason the requester will read."""
    req = access.reject_request(session=session, caller=caller, request_id=request_id, reason=body.reason)
    return request_out(session, req)


@router.get("/grants", response_model=GrantList, responses=READ, tags=["grants"])
def list_grants(
    caller: CallerDep,
    session: SessionDep,
    status: Literal["active", "suspended", "revoked", "expired"] | None = None,
    dataset: DatasetQ = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> GrantList:
    """Grants the caller may see: to their organization, and (stewards) on datasets it owns."""
    rows, nxt = access.list_grants(
        session=session, caller=caller, status=status, dataset=dataset, limit=limit, cursor=cursor
    )
    return GrantList(items=[grant_out(session, g) for g in rows], next_cursor=nxt)


@router.get("/grants/{grant_id}", response_model=GrantOut, responses=ONE, tags=["grants"])
def get_grant(grant_id: Id, caller: CallerDep, session: SessionDep) -> GrantOut:
    """One grant with its history (who, when, why) and its usage."""
    return grant_out(session, access.get_grant(session=session, caller=caller, grant_id=grant_id), details=True)


def _transition(grant_id: int, to: str, body: ReasonIn, caller: CallerDep, session: Session) -> GrantOut:
    grant = access.transition_grant(session=session, caller=caller, grant_id=grant_id, to=to, reason=body.reason)
    return grant_out(session, grant, details=True)


@router.post("/grants/{grant_id}/revoke", response_model=GrantOut, responses=CHANGE, tags=["grants"])
def revoke_grant(grant_id: Id, body: ReasonIn, caller: CallerDep, session: SessionDep) -> GrantOut:
    """Revoke for good (owning steward or admin); the next call under it is refused."""
    return _transition(grant_id, "revoked", body, caller, session)


@router.post("/grants/{grant_id}/suspend", response_model=GrantOut, responses=CHANGE, tags=["grants"])
def suspend_grant(grant_id: Id, body: ReasonIn, caller: CallerDep, session: SessionDep) -> GrantOut:
    """Suspend (owning steward or admin) until resumed."""
    return _transition(grant_id, "suspended", body, caller, session)


@router.post("/grants/{grant_id}/resume", response_model=GrantOut, responses=CHANGE, tags=["grants"])
def resume_grant(grant_id: Id, body: ReasonIn, caller: CallerDep, session: SessionDep) -> GrantOut:
    """Resume a suspended grant (owning steward or admin)."""
    return _transition(grant_id, "active", body, caller, session)


@router.post("/policies/reload", response_model=ReloadOut, responses=error_responses(401, 403, 422), tags=["admin"])
def reload_policies(caller: CallerDep, session: SessionDep) -> ReloadOut:
    """Re-read the policy files (administrators); audited."""
    return ReloadOut(datasets=access.reload_policies(session=session, caller=caller))
