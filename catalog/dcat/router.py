"""DCAT-AP 3 endpoints, as ckanext-dcat serves them: ``/catalog.{jsonld,ttl,rdf}?page=N`` (100 datasets a page,
Hydra paging) and ``/dataset/{name}.{jsonld,ttl,rdf}``. Every visible dataset is described (metadata is public);
only open datasets list downloadable distributions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from catalog.dcat.graph import catalog_graph, dataset_graph
from catalog.models import Dataset
from ndx.deps import SessionDep
from ndx.errors import NotFound

router = APIRouter(include_in_schema=False)
PER_PAGE = 100
FORMATS = {
    "jsonld": ("json-ld", "application/ld+json"),
    "ttl": ("turtle", "text/turtle"),
    "rdf": ("xml", "application/rdf+xml"),
}
VISIBLE = (Dataset.state == "active") & Dataset.private.is_(False)


def _format(fmt: str) -> tuple[str, str]:
    if fmt not in FORMATS:
        raise NotFound(f"no DCAT serialisation {fmt!r}; use one of {', '.join(FORMATS)}")
    return FORMATS[fmt]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("/catalog.{fmt}")
def catalog(
    fmt: str, request: Request, session: SessionDep, page: Annotated[int, Query(ge=1, le=1_000_000)] = 1
) -> Response:
    """One page of the whole catalog (datasets by name)."""
    rdf_format, media_type = _format(fmt)
    total = session.scalar(select(func.count()).select_from(Dataset).where(VISIBLE)) or 0
    stmt = (
        select(Dataset)
        .where(VISIBLE)
        .order_by(Dataset.name)
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
        .options(selectinload(Dataset.tags), selectinload(Dataset.resources))
    )
    datasets = list(session.scalars(stmt))
    page_url = f"{_base(request)}/catalog.{fmt}?page={page}"
    graph = catalog_graph(_base(request), datasets, total=total, page=page, per_page=PER_PAGE, page_url=page_url)
    return Response(graph.serialize(format=rdf_format), media_type=media_type)


@router.get("/dataset/{filename}")
def dataset(filename: str, request: Request, session: SessionDep) -> Response:
    """One dataset: ``/dataset/<name>.jsonld`` (or ``.ttl``, ``.rdf``)."""
    name, _, fmt = filename.rpartition(".")
    rdf_format, media_type = _format(fmt)
    ds = session.scalar(select(Dataset).where(Dataset.name == name, VISIBLE))
    if ds is None:
        raise NotFound(f"dataset {name!r} does not exist")
    return Response(dataset_graph(_base(request), ds).serialize(format=rdf_format), media_type=media_type)
