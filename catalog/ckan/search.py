"""package_search on NDX's own search: CKAN's fielded queries, sort strings, facets and offset paging.

``fq`` (and fielded words in ``q``) take ``field:value``, ``field:"a value"`` or ``field:(a OR b)``; each field
at most once (terms of different fields are AND-ed, as Solr's default). The fields are the catalog's facets
under CKAN's names, and ``name``. Anything else is a Search Query Error, as an unknown Solr field would be.
NDX's search pages with keyset cursors; ``start`` is reached by walking them (1,000 rows a step).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog import labels, service
from catalog import search as catalog_search
from catalog.ckan import dicts
from catalog.ckan.envelope import SearchQueryError
from catalog.ckan.schemas import PackageSearchIn
from catalog.models import Dataset
from catalog.schemas import DatasetSummary
from catalog.search.base import SearchParams, Sort

MAX_ROWS = 1000
STEP = 1000
# CKAN field -> NDX facet
FIELDS = {
    "organization": "organization",
    "owner_org": "organization",
    "tags": "tag",
    "res_format": "format",
    "license_id": "license",
    "classification": "classification",
    "source": "source",
    "groups": "theme",  # CKAN's groups are NDX's data themes (dicts.group_name)
}
FILTERS = {*FIELDS, "name"}
DEFAULT_FACETS = ("organization", "tags", "res_format", "license_id")
DEFAULT_SORT = "score desc, metadata_modified desc"
SORTS: dict[str, Sort] = {
    "score desc, metadata_modified desc": "relevance",
    "score desc": "relevance",
    "name asc": "name",
    "title_string asc": "title",
    "metadata_modified desc": "metadata_modified",
}
_TERM = re.compile(r'([+]?)([A-Za-z_][\w.]*):("(?:[^"\\]|\\.)*"|\((?:[^()"]|"[^"]*")*\)|[^\s()"]+)')
_OR = re.compile(r"\s+OR\s+")


@dataclass
class Query:
    text: str
    filters: dict[str, list[str]] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)


def _values(raw: str) -> list[str]:
    if raw.startswith("("):
        parts = _OR.split(raw[1:-1].strip())
        return [p.strip().strip('"') for p in parts if p.strip()]
    return [raw.strip('"').replace('\\"', '"')]


def parse(q: str, fq: str, fq_list: list[str]) -> Query:
    """Split a CKAN query into free text and facet filters; SearchQueryError on anything NDX cannot honour."""
    q = "" if q.strip() in {"*:*", "*"} else q
    out = Query(text="")
    seen: set[str] = set()
    free = []
    for where, text in [("q", q), ("fq", fq), *(("fq", x) for x in fq_list)]:
        rest = text
        for m in _TERM.finditer(text):
            name, raw = m.group(2), m.group(3)
            if name not in FILTERS:
                raise SearchQueryError(f"Invalid search parameters: unknown field {name!r} in {where}")
            if name in seen or (FIELDS.get(name) in out.filters):
                raise SearchQueryError(f"field {name!r} given twice: write {name}:(a OR b)")
            seen.add(name)
            values = _values(raw)
            if not values:
                raise SearchQueryError(f"field {name!r} has no value")
            if name == "name":
                out.names = values
            elif name == "groups":
                out.filters["theme"] = [dicts.theme_of(v) for v in values]
            else:
                out.filters[FIELDS[name]] = values
            rest = rest.replace(m.group(0), " ")
        rest = rest.strip()
        if where == "fq" and rest and rest not in {"*:*", "+dataset_type:dataset", "dataset_type:dataset"}:
            raise SearchQueryError(f"Invalid search parameters: cannot read {rest!r} in fq (use field:value)")
        if where == "q" and ":" in rest:
            raise SearchQueryError(f"Invalid search parameters: cannot read {rest!r} in q")
        if where == "q":
            free.append(rest)
    out.text = " ".join(free).strip()
    return out


def sort_of(sort: str | None, has_text: bool) -> tuple[str, Sort]:
    given = DEFAULT_SORT if not sort else " ".join(sort.lower().replace(",", ", ").split())
    given = given.replace(" ,", ",")
    if given not in SORTS:
        raise SearchQueryError(f"Invalid sort {sort!r}; NDX sorts by: {', '.join(SORTS)}")
    ndx = SORTS[given]
    if ndx == "relevance" and not has_text:
        ndx = "metadata_modified"
    return given, ndx


def facet_fields(data: PackageSearchIn) -> list[str]:
    fields = data.facet_field or list(DEFAULT_FACETS)
    for f in fields:
        if f not in FIELDS:
            raise SearchQueryError(f"Invalid facet field {f!r}; known: {', '.join(FIELDS)}")
    return fields


@dataclass
class Found:
    count: int
    datasets: list[Dataset]
    facets: dict[str, list[tuple[str, str, int]]]  # CKAN field -> (name, display name, count)


def load(session: Session, ids: list[str]) -> list[Dataset]:
    """The datasets of ``ids`` in that order, with what their dicts need loaded in a few queries."""
    if not ids:
        return []
    stmt = (
        select(Dataset)
        .where(Dataset.id.in_(ids))
        .options(selectinload(Dataset.tags), selectinload(Dataset.resources), selectinload(Dataset.fields))
    )
    by_id = {d.id: d for d in session.scalars(stmt)}
    return [by_id[i] for i in ids if i in by_id]


def _facet_value(field: str, value: str, label: str, n: int) -> tuple[str, str, int]:
    """A facet value as CKAN names it: a group by its (lower-case) group name and its title."""
    if FIELDS[field] == "theme":
        return dicts.group_name(value), labels.label(labels.THEME, value, "vi"), n
    return value, label, n


def _summary_facets(
    items: list[DatasetSummary], fields: list[str], themes: dict[str, list[str]]
) -> dict[str, list[tuple[str, str, int]]]:
    out: dict[str, list[tuple[str, str, int]]] = {}
    for f in fields:
        counted: Counter[str] = Counter()
        names: dict[str, str] = {}
        for d in items:
            by_facet: dict[str, list[str]] = {
                "organization": [d.owner_org],
                "tag": d.tags,
                "format": d.formats,
                "license": [d.license_id],
                "classification": [d.classification],
                "source": [d.source] if d.source else [],
                "theme": themes.get(d.id, []),
            }
            counted.update(by_facet[FIELDS[f]])
            if FIELDS[f] == "organization":
                names[d.owner_org] = d.organization.name_vi
        ranked = sorted(counted.items(), key=lambda x: (-x[1], x[0]))
        out[f] = [_facet_value(f, v, names.get(v, v), n) for v, n in ranked]
    return out


def run(session: Session, data: PackageSearchIn) -> tuple[Found, str]:
    query = parse(data.q, data.fq, data.fq_list)
    sort_text, sort = sort_of(data.sort, bool(query.text))
    fields = facet_fields(data) if data.facet else []
    rows = min(data.rows, MAX_ROWS)
    facet_limit = MAX_ROWS if data.facet_limit < 0 else max(data.facet_limit, 1)
    if query.names:
        found = _by_names(session, query, sort, fields)
        found.datasets = found.datasets[data.start : data.start + rows]
    else:
        found = _walk(session, query, sort, fields, data.start, rows, facet_limit)
    for f, values in found.facets.items():
        found.facets[f] = [v for v in values if v[2] >= data.facet_mincount][:facet_limit]
    return found, sort_text


def _walk(
    session: Session, query: Query, sort: Sort, fields: list[str], start: int, rows: int, facet_limit: int
) -> Found:
    first = service.search_datasets(
        session=session,
        params=SearchParams(
            q=query.text,
            filters=query.filters,
            sort=sort,
            limit=max(1, rows if start == 0 else 1),
            facets=bool(fields),
            facet_limit=facet_limit,
        ),
    )
    facets = {
        f: [_facet_value(f, fv.value, fv.label, fv.count) for fv in first.facets.get(FIELDS[f], [])] for f in fields
    }
    ids = [d.id for d in first.items][:rows] if start == 0 else _ids_after(session, query, sort, start, rows)
    return Found(count=first.count, datasets=load(session, ids), facets=facets)


def _ids_after(session: Session, query: Query, sort: Sort, start: int, rows: int) -> list[str]:
    """The ids of rows ``start`` to ``start + rows`` of the ranking, walking the keyset cursors to get there."""
    cursor: str | None = None
    skip = start
    while skip > 0:
        params = SearchParams(
            q=query.text, filters=query.filters, sort=sort, limit=min(STEP, skip), cursor=cursor, facets=False
        )
        page = catalog_search.search(session, params)
        skip -= len(page.rows)
        cursor = page.next_cursor
        if cursor is None:
            return []
    if rows == 0:
        return []
    params = SearchParams(q=query.text, filters=query.filters, sort=sort, limit=rows, cursor=cursor, facets=False)
    return catalog_search.search(session, params).ids


def _by_names(session: Session, query: Query, sort: Sort, fields: list[str]) -> Found:
    """A search restricted to named datasets: the ranking's rows with those names (walked whole)."""
    wanted = set(query.names)
    kept: list[DatasetSummary] = []
    cursor: str | None = None
    while True:
        params = SearchParams(q=query.text, filters=query.filters, sort=sort, limit=STEP, cursor=cursor, facets=False)
        page = service.search_datasets(session=session, params=params)
        kept += [d for d in page.items if d.name in wanted]
        cursor = page.next_cursor
        if cursor is None or len(kept) == len(wanted):
            break
    datasets = load(session, [d.id for d in kept])
    themes = {d.id: list(d.themes or []) for d in datasets}
    return Found(count=len(kept), datasets=datasets, facets=_summary_facets(kept, fields, themes))


def facets_out(found: Found) -> tuple[dict[str, Any], dict[str, Any]]:
    """CKAN's ``facets`` ({field: {value: count}}) and ``search_facets`` ({field: {title, items}})."""
    facets = {f: {name: n for name, _, n in values} for f, values in found.facets.items()}
    search_facets = {
        f: {"title": f, "items": [{"name": name, "display_name": label, "count": n} for name, label, n in values]}
        for f, values in found.facets.items()
    }
    return facets, search_facets
