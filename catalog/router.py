"""NDX REST API of the catalog (thin: each route calls one service function). Dataset metadata is public."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from catalog import service
from catalog.schemas import DatasetList, DatasetOut, OrganizationList, OrganizationOut
from catalog.search.base import SearchParams, Sort
from ndx.deps import SessionDep
from ndx.web import error_responses

router = APIRouter(prefix="/api/v1", tags=["catalog"])


async def loop_session(request: Request) -> AsyncIterator[Session]:
    """A session used on the event loop: catalog reads are short local queries, and the thread pool's two
    hand-offs per request (dependency, route) cost more than the query (PERFORMANCE.md: async def over def)."""
    with request.app.state.sessionmaker() as session:
        try:
            yield session
        finally:
            session.rollback()


LoopSession = Annotated[Session, Depends(loop_session)]

Values = Annotated[list[str], Query()]
Limit = Annotated[int, Query(ge=1, le=1000, description="Items per page (at most 1,000).")]
Cursor = Annotated[str | None, Query(max_length=2000, description="`next_cursor` of the previous page.")]


@router.get("/datasets", response_model=DatasetList, responses=error_responses(422))
async def search_datasets(
    session: LoopSession,
    q: Annotated[str, Query(max_length=500, description="Words to find, with or without diacritics.")] = "",
    organization: Values = [],  # noqa: B006 (FastAPI copies defaults)
    classification: Values = [],  # noqa: B006
    theme: Annotated[list[str], Query(description="EU data theme codes (DCAT-AP), e.g. SOCI, ECON.")] = [],  # noqa: B006
    tag: Values = [],  # noqa: B006
    source: Values = [],  # noqa: B006
    format: Values = [],  # noqa: B006 (the facet name)
    license: Values = [],  # noqa: B006
    sort: Annotated[
        Sort, Query(description="relevance (default; by name without q), name, title, metadata_modified")
    ] = "relevance",
    limit: Limit = 100,
    cursor: Cursor = None,
    lang: Annotated[Literal["vi", "en"], Query(description="Language of facet labels.")] = "vi",
) -> Response:
    """Search the catalog: ranked full-text over names, titles, descriptions, tags and field names, with facets.

    Filters repeat (`tag=a&tag=b`): values of one filter are OR-ed, different filters AND-ed. Paging has no
    depth limit: follow `next_cursor` until it is null.
    """
    filters = {
        "organization": organization,
        "classification": classification,
        "theme": theme,
        "tag": tag,
        "source": source,
        "format": format,
        "license": license,
    }
    params = SearchParams(q=q, filters=filters, sort=sort, limit=limit, cursor=cursor)
    result = service.search_datasets(session=session, params=params, lang=lang)
    # Serialised once, here: the hot route skips FastAPI's re-validation of a model it was just given.
    return Response(result.model_dump_json(), media_type="application/json")


@router.get("/datasets/{name}", response_model=DatasetOut, responses=error_responses(404, 422))
def show_dataset(name: str, session: SessionDep) -> DatasetOut:
    """One dataset: its metadata, fields with type and sensitivity, resources, and purposes one may request."""
    return service.dataset_detail(service.get_dataset(session=session, name=name))


@router.get("/organizations", response_model=OrganizationList, responses=error_responses(422))
def list_organizations(session: SessionDep, limit: Limit = 100, cursor: Cursor = None) -> OrganizationList:
    """Every organization (agency), by code, with the number of datasets it owns."""
    return service.list_organizations(session=session, limit=limit, cursor=cursor)


@router.get("/organizations/{code}", response_model=OrganizationOut, responses=error_responses(404, 422))
def get_organization(code: str, session: SessionDep) -> OrganizationOut:
    """One organization by its code."""
    return service.get_organization(session=session, code=code)
