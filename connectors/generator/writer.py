"""Bulk writing of the generated tables: SQLite through executemany, PostgreSQL through COPY.

Nothing half-written is ever left where a reader would take it for a database. A SQLite source is
written to a hidden temporary file next to its final name, with journaling and syncing off (the file is
thrown away on any failure anyway), and renamed into place by the caller only once everything succeeded.
A PostgreSQL source is replaced inside one transaction: its tables are dropped, created and filled, and
a failure rolls all of it back, leaving the previous tables as they were.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from connectors.engines import describe_url, source_engine
from connectors.generator.tables import TableData
from connectors.schema import SOURCES

Progress = Callable[[str, int, int], None]
CHUNK = 25_000


def write_sqlite(path: Path, source: str, tables: list[TableData], progress: Progress) -> None:
    """Create the source's tables in a new SQLite file at ``path`` and fill them."""
    engine = source_engine(f"sqlite:///{path}", writable=True)
    SOURCES[source].create_all(engine)
    engine.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")  # 256 MB: the primary-key B-trees stay in memory
        conn.execute("BEGIN")
        for table in tables:
            names = [name for name, _ in table.columns]
            marks = ", ".join("?" * len(names))
            sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})"  # noqa: S608 - contract names
            done = 0
            progress(f"write {table.qualified}", 0, table.n)
            for rows in table.chunks(CHUNK):
                conn.executemany(sql, rows)
                done += len(rows)
                progress(f"write {table.qualified}", done, table.n)
        conn.execute("COMMIT")
    finally:
        conn.close()


def admin_url(url: URL) -> URL:
    return url.set(database="postgres")


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` when it does not exist; ValueError when unreachable."""
    parsed = make_url(url)
    name = parsed.database or ""
    if not name or '"' in name:
        raise ValueError(f"invalid database name in {describe_url(url)}")
    engine = create_engine(admin_url(parsed), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ValueError(f"cannot reach PostgreSQL at {describe_url(url)}: {reason}") from exc
    finally:
        engine.dispose()


def write_postgres(url: str, source: str, tables: list[TableData], progress: Progress) -> None:
    """Replace the source's tables in the PostgreSQL database ``url`` in one transaction, filled with COPY."""
    ensure_database(url)
    engine = source_engine(url, writable=True)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
            SOURCES[source].drop_all(conn)
            SOURCES[source].create_all(conn)
            raw = conn.connection.driver_connection
            assert raw is not None
            with raw.cursor() as cursor:
                for table in tables:
                    names = ", ".join(name for name, _ in table.columns)
                    done = 0
                    progress(f"write {table.qualified}", 0, table.n)
                    with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                        for rows in table.chunks(CHUNK):
                            for row in rows:
                                copy.write_row(row)
                            done += len(rows)
                            progress(f"write {table.qualified}", done, table.n)
    finally:
        engine.dispose()
