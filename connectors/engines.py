"""Engines for the source databases: read-only for the platform, writable only for the generator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url


def _sqlite_path(url: URL) -> str:
    return url.database or ""


def source_engine(url: str, *, timeout_s: float = 5.0, writable: bool = False) -> Engine:
    """An engine for one source. Read-only unless ``writable`` (the generator's case).

    SQLite files are opened with ``mode=ro`` so a missing file is an error rather than a new empty
    database; PostgreSQL sessions default to read-only transactions with a statement time-out.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = _sqlite_path(parsed)
        if writable:
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"check_same_thread": False})
        else:
            ro_url = f"sqlite:///file:{Path(path).resolve()}?mode=ro&uri=true"
            engine = create_engine(ro_url, connect_args={"check_same_thread": False, "timeout": timeout_s})

            @event.listens_for(engine, "connect")
            def _query_only(dbapi_conn: Any, _record: Any) -> None:
                dbapi_conn.execute("PRAGMA query_only=ON")

        return engine
    if backend == "postgresql":
        options = f"-c statement_timeout={int(timeout_s * 1000)}"
        if not writable:
            options += " -c default_transaction_read_only=on"
        return create_engine(
            url,
            pool_pre_ping=True,
            connect_args={"options": options, "connect_timeout": max(1, int(timeout_s))},
        )
    raise ValueError(f"unsupported source database {backend!r}")


def describe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def missing_sqlite_file(url: str) -> str | None:
    """The path of a SQLite source file that does not exist, or None (not SQLite, or present)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return None if Path(parsed.database).exists() else parsed.database
