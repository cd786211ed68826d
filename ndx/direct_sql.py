"""The hot path's SQL: statements compiled once, run on raw driver connections kept per thread.

SQLAlchemy's per-execute machinery and pool checkout cost several times a primary-key lookup itself, so the
query route's reads (token and grants, the source record) and the audit batch go through these instead.
Values still go through the columns' types, so results equal what a SQLAlchemy ``Connection`` returns.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement


class Prepared:
    """A statement compiled once for one dialect, bound and run without SQLAlchemy's per-execute machinery.

    Values still go through the columns' types (bind and result processors, e.g. UTC datetimes and JSON on
    SQLite), so what comes back is what a SQLAlchemy ``Connection`` would return, as plain tuples.
    """

    __slots__ = ("_binds", "_compiled", "_defaults", "_expanding", "_names", "_results", "columns", "sql")

    def __init__(self, stmt: ClauseElement, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, stmt.compile(dialect=dialect))
        self._compiled = compiled
        self.sql: str = compiled.string
        self._names = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        self._defaults = {name: b.effective_value for b, name in compiled.bind_names.items() if not b.required}
        self._binds = tuple(
            (name, proc)
            for b, name in compiled.bind_names.items()
            if (proc := b.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        )
        self._expanding = bool(compiled.post_compile_params or compiled.literal_execute_params)
        columns = list(getattr(stmt, "exported_columns", ()))
        self.columns: tuple[str, ...] = tuple(str(c.key) for c in columns)
        self._results = tuple(
            (i, proc)
            for i, c in enumerate(columns)
            if (proc := c.type.dialect_impl(dialect).result_processor(dialect, None)) is not None
        )

    def bind(self, values: Mapping[str, Any]) -> tuple[str, Sequence[Any] | dict[str, Any]]:
        """The SQL (expanded for IN lists) and the driver's parameters for ``values``."""
        params = {**self._defaults, **values}
        if self._expanding:
            state = self._compiled.construct_expanded_state(params)
            expanded = dict(state.parameters)
            for name, proc in state.processors.items():
                if name in expanded:
                    expanded[name] = proc(expanded[name])
            if state.positiontup is not None:
                return state.statement, tuple(expanded[n] for n in state.positiontup)
            return state.statement, expanded
        for name, proc in self._binds:
            params[name] = proc(params[name])
        if self._names is not None:
            return self.sql, tuple(params[n] for n in self._names)
        return self.sql, params

    def bind_many(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """The driver's parameters for ``executemany`` of a statement without IN lists, one per row."""
        assert not self._expanding
        if self._names is None or self._defaults:
            return [self.bind(r)[1] for r in rows]
        procs = dict(self._binds)
        if len(self._names) == 1:  # itemgetter of one name gives the value itself, not a tuple
            name = self._names[0]
            one = procs.get(name)
            return [(r[name] if one is None else one(r[name]),) for r in rows]
        get = itemgetter(*self._names)  # the row's values in the statement's order, read in C
        convert = [(i, p) for i, n in enumerate(self._names) if (p := procs.get(n)) is not None]
        out: list[Any] = []
        for r in rows:
            values = get(r)
            if convert:
                values = list(values)
                for i, p in convert:
                    values[i] = p(values[i])
            out.append(values)
        return out

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[Sequence[Any]]:
        """Driver rows with the result processors applied."""
        if not self._results:
            return list(raw)
        out: list[Sequence[Any]] = []
        for row in raw:
            values = list(row)
            for i, proc in self._results:
                values[i] = proc(values[i])
            out.append(values)
        return out


class DirectConnection:
    """One raw driver connection per thread, taken from ``engine`` and kept until the engine is disposed.

    The engine's connect events have run on it (SQLite pragmas, read-only sources, PostgreSQL options).
    ``autocommit`` (reads): on PostgreSQL each statement is its own transaction, so every read sees what is
    committed and no transaction stays open; on SQLite a plain SELECT never opens one, and reading every
    row resets the statement, so no snapshot outlives the call. Writers (``autocommit=False``) commit or
    roll back themselves. A connection the server dropped is replaced, and the read retried once. ``init``
    runs on each driver connection when it is opened.
    """

    def __init__(self, engine: Engine, *, autocommit: bool = True, init: Callable[[Any], None] | None = None) -> None:
        self.engine = engine
        self._init = init
        self.dialect: Dialect = engine.dialect
        self.errors: type[Exception] = engine.dialect.loaded_dbapi.Error
        self._autocommit = autocommit
        self._local = threading.local()
        self._open: list[Any] = []
        self._lock = threading.Lock()
        self._statements: dict[int, tuple[ClauseElement, Prepared]] = {}
        event.listen(engine, "engine_disposed", self._disposed)

    def prepared(self, stmt: ClauseElement) -> Prepared:
        """The compiled form of ``stmt`` (cached by identity: callers reuse statement objects)."""
        hit = self._statements.get(id(stmt))
        if hit is not None and hit[0] is stmt:
            return hit[1]
        prepared = Prepared(stmt, self.dialect)
        if len(self._statements) >= 4096:
            self._statements.clear()
        self._statements[id(stmt)] = (stmt, prepared)
        return prepared

    def connection(self) -> Any:
        """This thread's driver connection (opened on first use)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        fairy = self.engine.raw_connection()
        conn = fairy.driver_connection
        assert conn is not None
        fairy.detach()  # the pool forgets it: this object owns it until ``close``
        if self._autocommit and self.dialect.name == "postgresql":
            conn.rollback()
            conn.autocommit = True
        if self._init is not None:
            self._init(conn)
        with self._lock:
            self._open.append(conn)
        self._local.conn = conn
        return conn

    def discard(self) -> None:
        """Close this thread's connection; the next call opens a new one."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with self._lock:
                if conn in self._open:
                    self._open.remove(conn)
            with contextlib.suppress(self.errors):  # already broken
                conn.close()

    def fetch(self, stmt: ClauseElement, values: Mapping[str, Any]) -> list[Sequence[Any]]:
        """Every row of ``stmt`` for ``values``; driver errors propagate (their type is ``self.errors``)."""
        return self.prepared(stmt).rows(self.fetch_raw(stmt, values))

    def fetch_raw(self, stmt: ClauseElement, values: Mapping[str, Any]) -> list[Any]:
        """The driver's rows of ``stmt`` for ``values``, before the result processors (see ``fetch``)."""
        sql, params = self.prepared(stmt).bind(values)
        for attempt in (1, 2):
            conn = self.connection()
            try:
                cur = conn.cursor()
                try:
                    cur.execute(sql, params)
                    raw: list[Any] = cur.fetchall()
                finally:
                    cur.close()
            except self.errors as exc:
                if not self.dialect.is_disconnect(cast(Any, exc), conn, None):
                    raise
                self.discard()
                if attempt == 2:
                    raise
                continue
            return raw
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close every thread's connection (they reopen on next use)."""
        with self._lock:
            conns, self._open = self._open, []
            self._local = threading.local()
        for conn in conns:
            with contextlib.suppress(self.errors):
                conn.close()

    def _disposed(self, _engine: Engine) -> None:
        self.close()
