"""PostgreSQL back end: weighted tsvectors (GIN-indexed), kept current by a trigger on ``catalog_search_text``.

The documents are folded and tokenised in Python and parsed with the ``simple`` configuration (no stemming,
no stop words), so PostgreSQL matches exactly what SQLite matches. Relevance is ``ts_rank`` with weights:
name and title A, tags B, field names C, description D.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    String,
    bindparam,
    case,
    cast,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.engine import Connection

from catalog.search.base import PHRASE_BONUS, AnySelect, SearchBackend

_VECTOR = (
    "setweight(to_tsvector('simple', {p}name_words), 'A') || setweight(to_tsvector('simple', {p}title), 'A') || "
    "setweight(to_tsvector('simple', {p}tags), 'B') || setweight(to_tsvector('simple', {p}fields), 'C') || "
    "setweight(to_tsvector('simple', {p}notes), 'D')"
)

_DDL = [
    "CREATE TABLE catalog_fts (doc_id integer PRIMARY KEY REFERENCES catalog_search_text (doc_id) ON DELETE CASCADE, "
    "tsv tsvector NOT NULL)",
    "CREATE INDEX ix_catalog_fts_tsv ON catalog_fts USING gin (tsv)",
    "CREATE FUNCTION catalog_fts_refresh() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "  # noqa: S608 (constant)
    "INSERT INTO catalog_fts (doc_id, tsv) VALUES (NEW.doc_id, " + _VECTOR.format(p="NEW.") + ") "
    "ON CONFLICT (doc_id) DO UPDATE SET tsv = EXCLUDED.tsv; RETURN NEW; END $$",
    "CREATE TRIGGER catalog_fts_refresh AFTER INSERT OR UPDATE OF name_words, title, tags, notes, fields "
    "ON catalog_search_text "
    "FOR EACH ROW EXECUTE FUNCTION catalog_fts_refresh()",
]

_FTS = table("catalog_fts", column("doc_id"), column("tsv", TSVECTOR()))


class PostgresSearch(SearchBackend):
    def index_exists(self, conn: Connection) -> bool:
        return conn.execute(text("SELECT to_regclass('catalog_fts')")).scalar() is not None

    def create_index(self, conn: Connection) -> None:
        # Replicas starting together: one creates, the others wait here and then find it made.
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('catalog_fts'))"))
        if self.index_exists(conn):
            return
        for ddl in _DDL:
            conn.exec_driver_sql(ddl)
        self.rebuild(conn)

    def rebuild(self, conn: Connection) -> None:
        conn.exec_driver_sql("DELETE FROM catalog_fts")
        conn.exec_driver_sql(
            "INSERT INTO catalog_fts (doc_id, tsv) SELECT doc_id, "  # noqa: S608 (constant SQL)
            + _VECTOR.format(p="")
            + " FROM catalog_search_text"
        )

    def match(self, *, phrase: bool, ranked: bool) -> AnySelect:
        query = func.to_tsquery(literal_column("'simple'::regconfig"), bindparam("fts_query", type_=String))
        cols: list[Any] = [_FTS.c.doc_id.label("doc_id")]
        if ranked:
            rank: ColumnElement[float] = cast(func.ts_rank(_FTS.c.tsv, query), Float(53))
            if phrase:  # the words side by side, as typed: ahead of the rest
                near = func.to_tsquery(literal_column("'simple'::regconfig"), bindparam("fts_phrase", type_=String))
                rank = rank + case((_FTS.c.tsv.op("@@")(near), PHRASE_BONUS), else_=0.0)
            cols.append(rank.label("rank"))
        return select(*cols).select_from(_FTS).where(_FTS.c.tsv.op("@@")(query))

    def match_params(self, toks: Sequence[str]) -> dict[str, str]:
        # Tokens are [a-z0-9]+ only, so joining them with & (or <->) is a well-formed tsquery.
        return {"fts_query": " & ".join(toks), "fts_phrase": " <-> ".join(toks)}
