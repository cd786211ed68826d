"""One search interface over each database's own full-text engine (SQLite FTS5, PostgreSQL tsvector).

Text is folded in Python (``ndx.textnorm.fold``: no diacritics, 'Đ' -> 'd') and cut into ASCII tokens before it
is indexed and before it is searched, so both engines see the same tokens and give the same matches: 'dan cu'
finds 'dân cư', 'Đất đai' is found by 'dat dai'. A back end only says how to find the datasets matching some
tokens and how relevant each is; filters, facets (GROUP BY in SQL over the matching set), sort and keyset
paging are written once here on top of it.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal, NamedTuple, TypeAlias, get_args

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.selectable import Subquery

from catalog.models import Dataset, DatasetTag, Resource, SearchDoc, SearchTerm, SearchValue
from catalog.search.cursors import decode_cursor, encode_cursor, query_fingerprint
from ndx.errors import Invalid
from ndx.textnorm import fold
from policies.models import Organization

Sort = Literal["relevance", "name", "title", "metadata_modified"]
SORTS: tuple[str, ...] = get_args(Sort)
FACETS: tuple[str, ...] = ("organization", "source", "classification", "theme", "tag", "format", "license")
MAX_TOKENS = 16
PHRASE_BONUS = 1000.0  # added to the rank of documents with the query's words side by side, in order
AnySelect: TypeAlias = "Select[*tuple[Any, ...]]"
_WORD = re.compile(r"[a-z0-9_]+")

DS = Dataset.__table__.c
TAG = DatasetTag.__table__.c
RES = Resource.__table__.c
ORG = Organization.__table__.c
DOC = SearchDoc.__table__.c
TERM = SearchTerm.__table__.c
VALUE = SearchValue.__table__.c
SUMMARY_COLUMNS = [
    *(DS[c] for c in ("title_vi", "title_en", "notes_vi", "notes_en", "owner_org", "classification")),
    *(DS[c] for c in ("license_id", "source", "row_count", "quality_score")),
    ORG.name_vi.label("org_name_vi"),
    ORG.name_en.label("org_name_en"),
]


def _words(text: str) -> list[str]:
    return [w for w in (m.strip("_") for m in _WORD.findall(fold(text))) if w]


def tokens(text: str) -> list[str]:
    """The indexed tokens of a text: folded ASCII words; ``citizen_id`` gives citizen, id and citizenid."""
    out: list[str] = []
    for word in _words(text):
        if "_" in word:
            out.extend(p for p in word.split("_") if p)
            out.append(word.replace("_", ""))
        else:
            out.append(word)
    return out


def folded(*parts: str | None) -> str:
    """The indexed form of some texts: their tokens joined by spaces."""
    return " ".join(t for part in parts if part for t in tokens(part))


def query_tokens(q: str) -> list[str]:
    """The distinct tokens of a user's query, in order, at most MAX_TOKENS.

    A word with underscores is looked for whole (``citizen_id`` finds that field, not every 'id').
    """
    seen: dict[str, None] = {}
    for word in _words(q):
        seen.setdefault(word.replace("_", ""), None)
    return list(seen)[:MAX_TOKENS]


@dataclass(frozen=True)
class SearchParams:
    """What a search asks: query text, facet filters (values OR within a facet, facets AND), sort, page."""

    q: str = ""
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)
    sort: Sort = "relevance"
    limit: int = 100
    cursor: str | None = None
    facets: bool = True
    facet_limit: int = 50


class FacetCount(NamedTuple):
    value: str
    n: int
    names: tuple[str, str] | None  # an organization's names in Vietnamese and English


@dataclass
class SearchResult:
    """One page: the rows in order (``SUMMARY_COLUMNS`` and the sort keys), the total of matches, the next
    page's cursor and each facet's most frequent values."""

    rows: list[Any]
    count: int
    next_cursor: str | None
    facets: dict[str, list[FacetCount]]

    @property
    def ids(self) -> list[str]:
        return [row.dataset_id for row in self.rows]


class SearchBackend(ABC):
    """The part of full-text search that differs between database engines."""

    @abstractmethod
    def index_exists(self, conn: Connection) -> bool:
        """Whether the derived full-text index has been built in this database."""

    @abstractmethod
    def create_index(self, conn: Connection) -> None:
        """Create the index and what keeps it up to date with ``catalog_search_text``, then fill it."""

    @abstractmethod
    def rebuild(self, conn: Connection) -> None:
        """Refill the index from ``catalog_search_text``."""

    @abstractmethod
    def match(self, *, phrase: bool, ranked: bool) -> AnySelect:
        """A select of the ``doc_id`` (and, if ``ranked``, the ``rank``: higher is more relevant) of the search
        documents matching the bound parameter ``fts_query`` (every token), ranking ahead those matching
        ``fts_phrase`` (the tokens side by side) if ``phrase``; the same statement for every query of that shape."""

    @abstractmethod
    def match_params(self, toks: Sequence[str]) -> dict[str, str]:
        """The values of ``fts_query`` and ``fts_phrase`` for some tokens."""

    def matches(self, toks: Sequence[str], *, ranked: bool) -> AnySelect:
        """``match`` with the parameters of these tokens bound."""
        return self.match(phrase=len(toks) > 1, ranked=ranked).params(**self.match_params(toks))


# -- the search ------------------------------------------------------------------------------------------------


def _wanted(filters: Mapping[str, Sequence[str]]) -> dict[str, set[str]]:
    """The values each filter asks for (formats upper-cased); a filter without any non-empty value filters nothing."""
    for facet in filters:
        if facet not in FACETS:
            raise Invalid(f"{facet}: not a facet; known: {', '.join(FACETS)}")
    wanted: dict[str, set[str]] = {}
    for facet, values in filters.items():
        kept = {v.upper() if facet == "format" else v for v in values if v}
        if kept:
            wanted[facet] = kept
    return wanted


def _visible(filtered: Sequence[str]) -> list[ColumnElement[bool]]:
    """The visible documents having, for each filtered facet, one of its values (values OR, facets AND); the
    values are looked up by (facet, value) in the same statement (a value nobody has matches nothing)."""
    clauses: list[ColumnElement[bool]] = [DOC.visible == true()]
    for facet in filtered:
        values = bindparam(f"filter_{facet}", expanding=True, type_=String)
        term_ids = select(VALUE.id).where(VALUE.facet == facet, VALUE.value.in_(values))
        clauses.append(DOC.id.in_(select(TERM.doc_id).where(TERM.term_id.in_(term_ids))))
    return clauses


def _named_top(counted: Subquery, limit: int) -> AnySelect:
    """Each facet's ``limit`` most frequent values, named, with the organizations' names in both languages."""
    place = func.row_number().over(partition_by=VALUE.facet, order_by=(counted.c.n.desc(), VALUE.value))
    named = (
        select(VALUE.facet, VALUE.value, counted.c.n, ORG.name_vi, ORG.name_en, place.label("place"))
        .join_from(counted, SearchValue.__table__, VALUE.id == counted.c.term_id)
        .outerjoin(Organization.__table__, and_(VALUE.facet == "organization", ORG.code == VALUE.value))
        .subquery("named")
    )
    return select(named.c.facet, named.c.value, named.c.n, named.c.name_vi, named.c.name_en).where(
        named.c.place <= limit
    )


def _total(source: Any) -> AnySelect:
    no_name = cast(null(), String)
    return select(literal("_count"), literal(""), func.count(), no_name, no_name).select_from(source)


def _count_and_facets(m: Any, facet_limit: int | None) -> list[AnySelect]:
    """Selects of (facet, value, count, name_vi, name_en): ('_count', '', total) and each facet's top values over
    the matching set ``m`` (None: every visible document). No facets when ``facet_limit`` is None.

    Every visible document, unfiltered: the counts the triggers keep on ``catalog_search_value``. Else the
    matching set is materialised once and its terms are reached by primary key from it, then GROUP BY term (the
    LEFT JOIN keeps SQLite from scanning every term to probe the set).
    """
    if m is None:
        total = _total(SearchDoc.__table__).where(DOC.visible == true())
        if facet_limit is None:
            return [total]
        kept = select(VALUE.id.label("term_id"), VALUE.visible_count.label("n")).where(VALUE.visible_count > 0)
        return [total, _named_top(kept.subquery("counted"), facet_limit)]
    total = _total(m)
    if facet_limit is None:
        return [total]
    joined = m.outerjoin(SearchTerm.__table__, TERM.doc_id == m.c.id)
    # No WHERE on the terms: it would let SQLite turn the LEFT JOIN into a join it may reorder (a document
    # without terms gives one NULL group, which names nothing and drops out of the join below).
    grouped = select(TERM.term_id.label("term_id"), func.count().label("n")).select_from(joined)
    return [total, _named_top(grouped.group_by(TERM.term_id).subquery("counted"), facet_limit)]


def _matching(backend: SearchBackend, ntoks: int, filtered: Sequence[str]) -> Any:
    """The matching visible documents with their sort keys and rank, materialised once for the total, the facets
    and the page (None when nothing narrows the visible documents: those are walked by index instead)."""
    if not ntoks and not filtered:
        return None
    cols = [DOC.id.label("id"), DOC.dataset_id, DOC.name, DOC.title_sort, DOC.metadata_modified]
    if ntoks:
        fts = backend.match(phrase=ntoks > 1, ranked=True).cte("ranked").prefix_with("MATERIALIZED")
        found = select(*cols, fts.c.rank.label("rank")).join_from(fts, SearchDoc.__table__, fts.c.doc_id == DOC.id)
    else:
        found = select(*cols, literal(0.0).label("rank")).select_from(SearchDoc.__table__)
    return found.where(*_visible(filtered)).cte("m").prefix_with("MATERIALIZED")


def _page(m: Any, sort: str, after_key: bool, limit: int) -> AnySelect:
    """The page's rows (unordered: ``position`` orders them), after the cursor's bound position if ``after_key``;
    descending sorts break ties by name descending too, so every sort without a query or filter walks one index."""
    if m is None:
        src: Any = DOC
        stmt = select(DOC.dataset_id, DOC.name, DOC.title_sort, DOC.metadata_modified, literal(0.0).label("rank"))
        stmt = stmt.where(DOC.visible == true())
        rank: ColumnElement[Any] = literal(0.0)
    else:
        src = m.c
        stmt = select(m.c.dataset_id, m.c.name, m.c.title_sort, m.c.metadata_modified, m.c.rank)
        rank = m.c.rank
    col = {"relevance": rank, "title": src.title_sort, "metadata_modified": src.metadata_modified}.get(sort)
    name = src.name
    key: list[Any] | None = [bindparam("after_0"), bindparam("after_1")] if after_key else None
    order: list[Any]
    if col is None:
        order, after = [name], (name > key[1]) if key else None
    elif sort in {"relevance", "metadata_modified"}:
        order = [col.desc(), name.desc()]
        after = or_(col < key[0], and_(col == key[0], name < key[1])) if key else None
    else:
        order = [col, name]
        after = or_(col > key[0], and_(col == key[0], name > key[1])) if key else None
    if after is not None:
        stmt = stmt.where(after)
    # The page first (ORDER BY ... LIMIT over the narrow documents), then the datasets and their organizations
    # for those rows only, kept in order by the row's position.
    position = func.row_number(type_=Integer).over(order_by=order).label("position")
    page = stmt.add_columns(position).order_by(*order).limit(limit + 1).subquery("page")
    return (
        select(page, *SUMMARY_COLUMNS)
        .join_from(page, Dataset.__table__, DS.id == page.c.dataset_id)
        .join(Organization.__table__, ORG.code == DS.owner_org)
    )


@lru_cache(maxsize=512)
def _statement(
    backend: SearchBackend,
    ntoks: int,
    filtered: tuple[str, ...],
    sort: str,
    after_key: bool,
    limit: int,
    facet_limit: int | None,
) -> CompoundSelect[Any]:
    """The whole search in one statement (one round trip, the match computed once): UNION ALL of the page's rows
    (facet '_page'), the total ('_count') and the facets' rows, each padded with typed NULLs to one shape.

    Built once per shape (no, one or several tokens; which facets are filtered; sort; whether after a cursor;
    limits) and reused, since building the expression costs more than running it: the tokens, the filters'
    values and the cursor's position are bound parameters (``fts_query``, ``fts_phrase``, ``filter_<facet>``,
    ``after_0``, ``after_1``)."""
    m = _matching(backend, ntoks, filtered)
    page = _page(m, sort, after_key, limit)
    page_cols: list[Any] = list(page.selected_columns)
    page_nulls = [cast(null(), c.type).label(c.key or "") for c in page_cols]
    no_name = cast(null(), String)
    head: list[Any] = [
        literal("_page", String).label("facet"),
        literal("", String).label("value"),
        cast(null(), Integer).label("n"),
        no_name.label("facet_name_vi"),
        no_name.label("facet_name_en"),
    ]
    branches: list[AnySelect] = [page.with_only_columns(*head, *page_cols)]
    for counts in _count_and_facets(m, facet_limit):
        branches.append(counts.add_columns(*page_nulls))
    return union_all(*branches)


def _key_of(sort: str, row: Any) -> list[Any]:
    if sort == "relevance":
        return [float(row.rank), row.name]
    if sort == "title":
        return [row.title_sort, row.name]
    if sort == "metadata_modified":
        return [row.metadata_modified.isoformat(), row.name]
    return [None, row.name]


def run_search(conn: Connection, backend: SearchBackend, params: SearchParams) -> SearchResult:
    """Search in one statement: the ranked page, the total and the facet counts over the matching set."""
    toks = query_tokens(params.q)
    if params.sort not in SORTS:
        raise Invalid(f"sort: must be one of {', '.join(SORTS)}", details=[{"loc": ["query", "sort"]}])
    sort = "name" if params.sort == "relevance" and not toks else params.sort
    filters = {k: list(v) for k, v in params.filters.items() if v}
    fingerprint = query_fingerprint(toks, filters)
    key = decode_cursor(params.cursor, sort, fingerprint) if params.cursor else None
    wanted = _wanted(filters)
    bound: dict[str, Any] = {f"filter_{facet}": sorted(values) for facet, values in wanted.items()}
    if toks:
        bound.update(backend.match_params(toks))
        if len(toks) == 1:
            bound.pop("fts_phrase", None)
    if key is not None:
        bound.update(after_0=key[0], after_1=key[1])
    facet_limit = params.facet_limit if params.facets else None
    ntoks = min(len(toks), 2)
    stmt = _statement(backend, ntoks, tuple(sorted(wanted)), sort, key is not None, params.limit, facet_limit)

    count = 0
    facets: dict[str, list[FacetCount]] = {f: [] for f in FACETS} if params.facets else {}
    rows: list[Any] = []
    for row in conn.execute(stmt, bound):
        facet = row.facet
        if facet == "_page":
            rows.append(row)
        elif facet == "_count":
            count = int(row.n)
        else:
            names = (row.facet_name_vi, row.facet_name_en) if row.facet_name_vi is not None else None
            facets.setdefault(facet, []).append(FacetCount(row.value, int(row.n), names))
    for values in facets.values():
        values.sort(key=lambda fc: (-fc.n, fc.value))
    rows.sort(key=lambda r: r.position)
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    next_cursor = encode_cursor(sort, _key_of(sort, rows[-1]), fingerprint) if more and rows else None
    return SearchResult(rows=rows, count=count, next_cursor=next_cursor, facets=facets)


def search_doc_values(
    *, name: str, titles: Sequence[str], tags: Sequence[str], notes: Sequence[str], fields: Sequence[str]
) -> dict[str, str]:
    """The folded text columns of one ``catalog_search_text`` row."""
    spaced_name = name.replace("-", " ").replace("_", " ")
    return {
        "name_words": folded(spaced_name),
        "title": folded(*titles),
        "tags": folded(*tags),
        "notes": folded(*notes),
        "fields": folded(*fields),
    }
