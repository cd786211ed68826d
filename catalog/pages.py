"""Server-rendered catalog pages: home, search with facets, dataset, organizations. No JavaScript needed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from catalog import labels, service
from catalog.schemas import DatasetList
from catalog.search.base import FACETS, SORTS, SearchParams
from ndx import i18n
from ndx.deps import SessionDep
from ndx.errors import Invalid

TEMPLATE_DIR = Path(__file__).parent / "templates"
PAGE_SIZE = 20
FACET_VALUES_SHOWN = 15
router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Values = Annotated[list[str], Query()]


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """Render a page in the request's language, remembering a language chosen with ``?lang=``."""
    templates: Jinja2Templates = request.app.state.templates
    lang = i18n.request_language(request)
    ctx = {"lang": lang, "labels": labels, **context}
    response = templates.TemplateResponse(request, name, ctx, status_code=status)
    i18n.remember_language(request, response)
    return response


def _query(params: dict[str, list[str] | str | None]) -> str:
    pairs = [(k, v) for k, vals in params.items() for v in ([vals] if isinstance(vals, str) else vals or []) if v]
    return "?" + urlencode(pairs) if pairs else ""


def _facet_links(
    result: DatasetList, base: dict[str, list[str] | str | None], filters: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """For each facet: its values with counts and the link that adds or removes the value from the filters."""
    out = []
    for facet in FACETS:
        values = []
        for fv in result.facets.get(facet, []):
            chosen = list(filters.get(facet, []))
            selected = fv.value in chosen
            new = [v for v in chosen if v != fv.value] if selected else [*chosen, fv.value]
            values.append(
                {
                    "label": fv.label,
                    "count": fv.count,
                    "selected": selected,
                    "href": "/datasets" + _query({**base, **filters, facet: new}),
                }
            )
        shown = [v for i, v in enumerate(values) if i < FACET_VALUES_SHOWN or v["selected"]]
        if shown:
            out.append({"name": facet, "title": labels.FACET_TITLES[facet], "values": shown})
    return out


@router.get("/")
def home(request: Request, session: SessionDep) -> Response:
    lang = i18n.request_language(request)
    recent = service.search_datasets(session=session, params=SearchParams(sort="metadata_modified", limit=6), lang=lang)
    orgs = [o for o in service.list_organizations(session=session, limit=1000).items if o.dataset_count]
    context = {"counts": service.catalog_counts(session=session), "recent": recent, "orgs": orgs, "section": "home"}
    return render(request, "catalog/home.html", context)


@router.get("/datasets")
def search_page(
    request: Request,
    session: SessionDep,
    q: Annotated[str, Query(max_length=500)] = "",
    organization: Values = [],  # noqa: B006
    classification: Values = [],  # noqa: B006
    theme: Values = [],  # noqa: B006
    tag: Values = [],  # noqa: B006
    source: Values = [],  # noqa: B006
    format: Values = [],  # noqa: B006
    license: Values = [],  # noqa: B006
    sort: str = "relevance",
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    lang = i18n.request_language(request)
    if sort not in SORTS:
        raise Invalid(f"sort: must be one of {', '.join(SORTS)}")
    filters = {
        "organization": organization,
        "classification": classification,
        "theme": theme,
        "tag": tag,
        "source": source,
        "format": format,
        "license": license,
    }
    filters = {k: v for k, v in filters.items() if v}
    params = SearchParams(q=q, filters=filters, sort=sort, limit=PAGE_SIZE, cursor=cursor)  # type: ignore[arg-type]
    result = service.search_datasets(session=session, params=params, lang=lang)
    base: dict[str, list[str] | str | None] = {"q": q, "sort": sort if sort != "relevance" else None}
    labels_of = {f: {fv.value: fv.label for fv in result.facets.get(f, [])} for f in FACETS}
    active = [
        {
            "facet": f,
            "label": labels_of[f].get(v, v),
            "href": "/datasets" + _query({**base, **filters, f: [x for x in vals if x != v]}),
        }
        for f, vals in filters.items()
        for v in vals
    ]
    context = {
        "q": q,
        "sort": sort,
        "sorts": SORTS,
        "filters": filters,
        "result": result,
        "facets": _facet_links(result, base, filters),
        "active": active,
        "page": page,
        "first": (page - 1) * PAGE_SIZE + 1,
        "next_href": "/datasets" + _query({**base, **filters, "cursor": result.next_cursor, "page": str(page + 1)})
        if result.next_cursor
        else None,
        "first_href": "/datasets" + _query({**base, **filters}) if cursor else None,
        "section": "datasets",
    }
    return render(request, "catalog/search.html", context)


@router.get("/datasets/{name}")
def dataset_page(request: Request, name: str, session: SessionDep) -> Response:
    ds = service.dataset_detail(service.get_dataset(session=session, name=name))
    return render(request, "catalog/dataset.html", {"ds": ds, "section": "datasets"})


@router.get("/organizations")
def organizations_page(request: Request, session: SessionDep) -> Response:
    orgs = service.list_organizations(session=session, limit=1000).items
    return render(request, "catalog/organizations.html", {"orgs": orgs, "section": "organizations"})


@router.get("/organizations/{code}")
def organization_page(request: Request, code: str, session: SessionDep) -> Response:
    lang = i18n.request_language(request)
    org = service.get_organization(session=session, code=code)
    params = SearchParams(filters={"organization": [code]}, sort="name", limit=100)
    result = service.search_datasets(session=session, params=params, lang=lang)
    context = {"org": org, "result": result, "section": "organizations"}
    return render(request, "catalog/organization.html", context)
