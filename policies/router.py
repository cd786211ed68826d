"""HTTP routes of the policies domain (thin: each calls one service function)."""

from __future__ import annotations

from fastapi import APIRouter

from ndx.deps import SessionDep
from ndx.web import error_responses
from policies import service
from policies.schemas import OrganizationList, OrganizationOut

router = APIRouter(prefix="/api/v1", tags=["organizations"])


@router.get("/organizations", response_model=OrganizationList)
def list_organizations(session: SessionDep) -> OrganizationList:
    """Every organization (agency) known to the platform."""
    orgs = service.list_organizations(session=session)
    return OrganizationList(items=[OrganizationOut.model_validate(o) for o in orgs], next_cursor=None)


@router.get("/organizations/{code}", response_model=OrganizationOut, responses=error_responses(404))
def get_organization(code: str, session: SessionDep) -> OrganizationOut:
    """One organization by its code."""
    return OrganizationOut.model_validate(service.get_organization(session=session, code=code))
