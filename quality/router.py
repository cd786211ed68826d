"""The quality REST API: runs, findings (filtered, keyset-paged) and their review. HTTP only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ndx.deps import SessionDep
from ndx.errors import Invalid
from ndx.web import error_responses
from policies.paging import check_limit, decode_cursor, encode_cursor, int_cursor
from quality import service
from quality.dependencies import ReviewerDep
from quality.schemas import FindingList, FindingOut, ReviewIn, RunList, finding_out, run_out

router = APIRouter(prefix="/api/v1/quality", tags=["quality"])
Limit = Annotated[int | None, Query(description="Page size, 1 to 1,000 (default 100).")]
Cursor = Annotated[str | None, Query(description="The next_cursor of the previous page.")]


@router.get("/runs", response_model=RunList, responses=error_responses(422))
def list_runs(session: SessionDep, limit: Limit = None, cursor: Cursor = None) -> RunList:
    """Quality runs, newest first."""
    size = check_limit(limit)
    runs = service.list_runs(session=session, limit=size + 1, before=int_cursor(cursor))
    more = len(runs) > size
    runs = runs[:size]
    return RunList(items=[run_out(r) for r in runs], next_cursor=encode_cursor(runs[-1].id) if more else None)


@router.get("/findings", response_model=FindingList, responses=error_responses(422))
def list_findings(
    session: SessionDep,
    check: Annotated[str | None, Query(description="One check code of shared/SOURCES.md.")] = None,
    dataset: Annotated[str | None, Query(description="A dataset name, e.g. population-citizen.")] = None,
    status: Annotated[str | None, Query(description="open, confirmed, dismissed or fixed.")] = None,
    run: Annotated[int | None, Query(description="A run id (default: the latest completed run).")] = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> FindingList:
    """Findings of a run, ordered by id."""
    size = check_limit(limit)
    after = decode_cursor(cursor) if cursor is not None else None
    if after is not None and not isinstance(after, str):
        raise Invalid("cursor: not a cursor this API gave out")
    found = service.list_findings(
        session=session, check=check, dataset=dataset, status=status, limit=size + 1, after=after, run_id=run
    )
    more = len(found) > size
    found = found[:size]
    return FindingList(items=[finding_out(f) for f in found], next_cursor=encode_cursor(found[-1].id) if more else None)


@router.get("/findings/{finding_id}", response_model=FindingOut, responses=error_responses(404, 422))
def get_finding(finding_id: str, session: SessionDep) -> FindingOut:
    return finding_out(service.get_finding(session=session, finding_id=finding_id))


@router.post(
    "/findings/{finding_id}/review",
    response_model=FindingOut,
    responses=error_responses(400, 401, 403, 404, 422),
)
def review_finding(finding_id: str, body: ReviewIn, session: SessionDep, reviewer: ReviewerDep) -> FindingOut:
    """Confirm, dismiss, mark fixed or reopen a finding: stewards of the dataset's owning agency only."""
    finding = service.review_finding(
        session=session, finding_id=finding_id, reviewer=reviewer, status=body.status, note=body.note
    )
    return finding_out(finding)
