"""Full-text search of the catalog on the platform database's own engine; see ``base`` for the design."""

from __future__ import annotations

import weakref

from sqlalchemy import func, select, true, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from catalog.models import SearchTerm, SearchValue
from catalog.search.base import SearchBackend, SearchParams, SearchResult, run_search
from catalog.search.postgres import PostgresSearch
from catalog.search.sqlite import SQLiteSearch

__all__ = ["SearchParams", "SearchResult", "backend_for", "ensure_index", "rebuild_index", "search"]

_BACKENDS: dict[str, SearchBackend] = {"sqlite": SQLiteSearch(), "postgresql": PostgresSearch()}
_READY: weakref.WeakSet[Engine] = weakref.WeakSet()


def backend_for(conn: Connection) -> SearchBackend:
    try:
        return _BACKENDS[conn.dialect.name]
    except KeyError:
        raise RuntimeError(f"no full-text search back end for {conn.dialect.name!r}") from None


def ensure_index(session: Session) -> None:
    """Build the full-text index if this database does not have it yet (once per engine and process).

    The index is derived from ``catalog_search_doc``: creating it fills it, and triggers keep it current after.
    Call this before writing datasets and before searching; it commits only when it has to create the index.
    """
    conn = session.connection()
    engine = conn.engine
    if engine in _READY:
        return
    backend = backend_for(conn)
    if not backend.index_exists(conn):
        backend.create_index(conn)
        session.commit()
    _READY.add(engine)


def forget_index(engine: Engine) -> None:
    """Make the next ``ensure_index`` look again (after a migration downgrade dropped the index)."""
    _READY.discard(engine)


def rebuild_index(session: Session) -> None:
    """Refill the full-text index from the stored search documents and recount each facet value's visible
    documents (``ndx catalog reindex``)."""
    ensure_index(session)
    conn = session.connection()
    backend_for(conn).rebuild(conn)
    counted = (
        select(func.count()).where(SearchTerm.term_id == SearchValue.id, SearchTerm.visible == true()).scalar_subquery()
    )
    conn.execute(update(SearchValue).values(visible_count=counted))
    session.commit()


def search(session: Session, params: SearchParams) -> SearchResult:
    ensure_index(session)
    conn = session.connection()
    return run_search(conn, backend_for(conn), params)
