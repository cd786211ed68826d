"""SQLite back end: an FTS5 table over ``catalog_search_text`` (external content, kept current by triggers).

The documents are already folded and tokenised in Python, so FTS5's ``unicode61`` tokenizer only splits on
spaces; its ``remove_diacritics`` option would not fold 'Đ' and is not relied on. Relevance is BM25 with
weights per column: name and title count most, then tags, field names, description.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Float, String, bindparam, case, column, literal_column, select, table, text
from sqlalchemy.engine import Connection

from catalog.search.base import PHRASE_BONUS, AnySelect, SearchBackend

# Column order of the FTS table: name words, title, tags, notes, fields.
_WEIGHTS = "10.0, 8.0, 5.0, 1.5, 3.0"
_COLUMNS = "name_words, title, tags, notes, fields"
_NEW = "new.name_words, new.title, new.tags, new.notes, new.fields"
_OLD = "old.name_words, old.title, old.tags, old.notes, old.fields"

_DDL = [
    f"CREATE VIRTUAL TABLE catalog_fts USING fts5({_COLUMNS}, content='catalog_search_text', content_rowid='doc_id', "
    "tokenize='unicode61 remove_diacritics 0')",
    f"CREATE TRIGGER catalog_fts_ai AFTER INSERT ON catalog_search_text BEGIN "  # noqa: S608 (constant DDL)
    f"INSERT INTO catalog_fts(rowid, {_COLUMNS}) VALUES (new.doc_id, {_NEW}); END",
    f"CREATE TRIGGER catalog_fts_ad AFTER DELETE ON catalog_search_text BEGIN "  # noqa: S608 (constant DDL)
    f"INSERT INTO catalog_fts(catalog_fts, rowid, {_COLUMNS}) VALUES ('delete', old.doc_id, {_OLD}); END",
    f"CREATE TRIGGER catalog_fts_au AFTER UPDATE OF {_COLUMNS} ON catalog_search_text BEGIN "  # noqa: S608 (constant DDL)
    f"INSERT INTO catalog_fts(catalog_fts, rowid, {_COLUMNS}) VALUES ('delete', old.doc_id, {_OLD}); "
    f"INSERT INTO catalog_fts(rowid, {_COLUMNS}) VALUES (new.doc_id, {_NEW}); END",
]

_FTS = table("catalog_fts", column("rowid"))


class SQLiteSearch(SearchBackend):
    def index_exists(self, conn: Connection) -> bool:
        found = conn.execute(text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'catalog_fts'"))
        return found.first() is not None

    def create_index(self, conn: Connection) -> None:
        for ddl in _DDL:
            conn.exec_driver_sql(ddl)
        self.rebuild(conn)

    def rebuild(self, conn: Connection) -> None:
        conn.exec_driver_sql("INSERT INTO catalog_fts(catalog_fts) VALUES ('rebuild')")

    def match(self, *, phrase: bool, ranked: bool) -> AnySelect:
        fts: ColumnElement[Any] = literal_column("catalog_fts")
        cols: list[Any] = [_FTS.c.rowid.label("doc_id")]
        if ranked:
            rank: ColumnElement[float] = -literal_column(f"bm25(catalog_fts, {_WEIGHTS})", Float())
            if phrase:  # the words side by side, as typed: ahead of the rest
                inner = select(_FTS.c.rowid).where(fts.op("MATCH")(bindparam("fts_phrase", type_=String)))
                rank = rank + case((_FTS.c.rowid.in_(inner.scalar_subquery()), PHRASE_BONUS), else_=0.0)
            cols.append(rank.label("rank"))
        return select(*cols).select_from(_FTS).where(fts.op("MATCH")(bindparam("fts_query", type_=String)))

    def match_params(self, toks: Sequence[str]) -> dict[str, str]:
        # Tokens are [a-z0-9]+ only; quoting each keeps FTS5 from reading any as an operator (AND, OR, NOT, NEAR).
        return {"fts_query": " AND ".join(f'"{tok}"' for tok in toks), "fts_phrase": '"' + " ".join(toks) + '"'}
