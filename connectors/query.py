"""Controlled queries over a source table: parse the caller's filters, compile a bound ``select()``, run it.

Like datasette's canned queries: only bound parameters (never string SQL), only the dataset's declared
filter columns, the grant's row filter ANDed in, a read-only connection, a time limit, a row cap fetched
as limit+1 to tell whether more follows, and keyset paging on the primary key with opaque cursors.
Values are checked against the column's type before they reach the database: a value that cannot be one
(an injection attempt, a full-width digit, a zero-width space) is a 422 that says what was expected.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from sqlalchemy import CHAR, Date, DateTime, Integer, Numeric, Select, String, Table, bindparam, select
from sqlalchemy.engine import Engine, Row
from sqlalchemy.exc import DBAPIError

from ndx.direct_sql import DirectConnection
from ndx.errors import Invalid, Unavailable
from policies.paging import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor
from policies.rules_model import DatasetRule, Mask

Op = Literal["eq", "in", "gte", "gt", "lte", "lt"]
RANGE_OPS: frozenset[str] = frozenset({"gte", "gt", "lte", "lt"})
RESERVED: frozenset[str] = frozenset({"fields", "limit", "cursor"})
_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$", re.ASCII)
_INT = re.compile(r"^-?[0-9]{1,18}$", re.ASCII)
_DEC = re.compile(r"^-?[0-9]{1,15}(\.[0-9]{1,6})?$", re.ASCII)
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", re.ASCII)
_DATETIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?)?$", re.ASCII)


# Columns whose values the source contract (shared/SOURCES.md) fixes: anything else cannot match, so say so.
ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("citizen", "sex"): ("M", "F"),
    ("insured_person", "sex"): ("M", "F"),
    ("citizen", "status"): ("alive", "deceased"),
    ("land_right", "holder_kind"): ("citizen", "enterprise"),
    ("enterprise", "status"): ("active", "suspended", "dissolved"),
}


@dataclass(frozen=True, slots=True)
class Filter:
    column: str
    op: Op
    values: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class QueryParams:
    filters: tuple[Filter, ...]
    fields: tuple[str, ...]
    limit: int
    after: Any | None  # the last primary key of the previous page

    @property
    def filter_columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.column for f in self.filters))


def _shown(raw: str) -> str:
    return raw if len(raw) <= 40 else raw[:40] + "..."


def convert(table: Table, column: str, raw: str) -> Any:
    """``raw`` as a value of ``column``'s type, or Invalid saying what the column takes."""
    col = table.c[column]
    kind = col.type
    if isinstance(kind, Integer):
        if not _INT.match(raw):
            raise Invalid(f"{column}: {_shown(raw)!r} is not a whole number")
        return int(raw)
    if isinstance(kind, Numeric):
        if not _DEC.match(raw):
            raise Invalid(f"{column}: {_shown(raw)!r} is not a number")
        try:
            return Decimal(raw) if kind.asdecimal else float(raw)
        except InvalidOperation:  # pragma: no cover  (the pattern admits only valid decimals)
            raise Invalid(f"{column}: {_shown(raw)!r} is not a number") from None
    if isinstance(kind, DateTime):
        try:
            if not _DATETIME.match(raw):
                raise ValueError
            return datetime.fromisoformat(raw)
        except ValueError:
            raise Invalid(f"{column}: {_shown(raw)!r} is not a date-time (YYYY-MM-DDTHH:MM:SS)") from None
    if isinstance(kind, Date):
        try:
            if not _DATE.match(raw):
                raise ValueError
            return date.fromisoformat(raw)
        except ValueError:
            raise Invalid(f"{column}: {_shown(raw)!r} is not a date (YYYY-MM-DD)") from None
    allowed = ENUMS.get((table.name, column))
    if allowed is not None:
        if raw not in allowed:
            raise Invalid(f"{column}: {_shown(raw)!r} is not one of {', '.join(allowed)}")
        return raw
    if isinstance(kind, String):
        length = kind.length or 255
        if not _TOKEN.match(raw) or len(raw) > length:
            raise Invalid(
                f"{column}: {_shown(raw)!r} is not a valid value: ASCII letters, digits and . _ : / - only, "
                f"at most {length} characters"
            )
        if isinstance(kind, CHAR) and kind.length and len(raw) != kind.length:
            raise Invalid(f"{column}: {_shown(raw)!r} is not a valid value: exactly {kind.length} characters")
        return raw
    raise Invalid(f"{column}: cannot filter on this column")  # pragma: no cover


def _rangeable(table: Table, column: str) -> bool:
    return isinstance(table.c[column].type, Integer | Numeric | Date | DateTime)


def parse_params(rule: DatasetRule, table: Table, items: Iterable[tuple[str, str]]) -> QueryParams:
    """The query string of a records call: filters on declared filter columns, ``fields``, ``limit``, ``cursor``.

    ``col=v`` is equality, ``col=a,b`` or a repeated ``col`` is a list, ``col__gte=`` (gt, lte, lt) a range on
    dates and numbers. Any other name is a 422 naming it.
    """
    grouped: dict[tuple[str, Op], list[str]] = {}
    fields: list[str] = []
    limit = DEFAULT_LIMIT
    after: Any | None = None
    for key, raw in items:
        if key == "fields":
            fields.extend(f.strip() for f in raw.split(",") if f.strip())
            continue
        if key == "limit":
            if not _INT.match(raw) or not 1 <= int(raw) <= MAX_LIMIT:
                raise Invalid(f"limit: a whole number from 1 to {MAX_LIMIT}")
            limit = int(raw)
            continue
        if key == "cursor":
            value = decode_cursor(raw)
            if not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], str | int):
                raise Invalid("cursor: not a cursor this API gave out")
            after = convert(table, rule.primary_key, str(value[0]))
            continue
        column, _, op_name = key.partition("__")
        if column not in rule.filter_columns:
            raise Invalid(
                f"{_shown(key)!r} is not a filter of {rule.name}: filter on {', '.join(rule.filter_columns)}, "
                "or use fields, limit, cursor",
                details={"parameter": key},
            )
        op: Op = "eq"
        if op_name:
            if op_name not in RANGE_OPS and op_name != "in":
                raise Invalid(f"{_shown(key)!r}: unknown operator {op_name!r} (in, gte, gt, lte, lt)")
            if op_name in RANGE_OPS and not _rangeable(table, column):
                raise Invalid(f"{key}: ranges apply to dates and numbers only")
            op = op_name  # type: ignore[assignment]
        values = raw.split(",") if op in ("eq", "in") else [raw]
        grouped.setdefault((column, op), []).extend(values)
    filters = []
    for (column, op), values in grouped.items():
        if op in RANGE_OPS and len(values) > 1:
            raise Invalid(f"{column}__{op}: give one value")
        if len(values) > MAX_LIMIT:
            raise Invalid(f"{column}: at most {MAX_LIMIT} values")
        converted = tuple(dict.fromkeys(convert(table, column, v) for v in values))
        filters.append(Filter(column, "in" if op == "eq" and len(converted) > 1 else op, converted))
    return QueryParams(tuple(filters), tuple(dict.fromkeys(fields)), limit, after)


@dataclass(frozen=True, slots=True)
class Compiled:
    """A bound select and the values of its parameters (the statement is reused for every call of its shape)."""

    stmt: Select[Any]
    params: dict[str, Any]


_STATEMENTS: dict[tuple[Any, ...], Select[Any]] = {}
_MAX_STATEMENTS = 2048


def compile_select(
    table: Table,
    rule: DatasetRule,
    *,
    fields: Sequence[str],
    row_filter: Mapping[str, Sequence[str]],
    filters: Sequence[Filter] = (),
    after: Any | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Compiled:
    """The bound select: the projection plus the key and subject columns (for the audit), the grant's row
    filter ANDed with the caller's filters, keyset order on the primary key, ``limit + 1`` rows.

    Statements are cached by shape (columns, operators, which filters) with every value a bound parameter,
    so SQLAlchemy's compiled cache is hit without rebuilding the statement on each call.
    """
    params: dict[str, Any] = {}
    shape: list[Any] = [table.name, rule.primary_key, rule.subject_column, tuple(fields), limit, after is not None]
    conds: list[tuple[str, str, str]] = []
    for n, (column, raw_values) in enumerate(row_filter.items()):
        name = f"rf{n}"
        params[name] = [convert(table, column, v) for v in raw_values]
        conds.append((column, "in", name))
    for n, f in enumerate(filters):
        name = f"f{n}"
        params[name] = list(f.values) if f.op == "in" else f.values[0]
        conds.append((f.column, f.op, name))
    if after is not None:
        params["after"] = after
    shape.append(tuple(conds))
    key = tuple(shape)
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _build(table, rule, fields, conds, after is not None, limit)
        if len(_STATEMENTS) >= _MAX_STATEMENTS:
            _STATEMENTS.clear()
        _STATEMENTS[key] = stmt
    return Compiled(stmt, params)


def _build(
    table: Table,
    rule: DatasetRule,
    fields: Sequence[str],
    conds: Sequence[tuple[str, str, str]],
    after: bool,
    limit: int,
) -> Select[Any]:
    wanted = [*fields, rule.primary_key, *([rule.subject_column] if rule.subject_column else [])]
    pk = table.c[rule.primary_key]
    stmt = select(*(table.c[c] for c in dict.fromkeys(wanted)))
    for column, op, name in conds:
        col = table.c[column]
        if op == "in":
            stmt = stmt.where(col.in_(bindparam(name, expanding=True)))
        elif op == "eq":
            stmt = stmt.where(col == bindparam(name))
        elif op == "gte":
            stmt = stmt.where(col >= bindparam(name))
        elif op == "gt":
            stmt = stmt.where(col > bindparam(name))
        elif op == "lte":
            stmt = stmt.where(col <= bindparam(name))
        else:
            stmt = stmt.where(col < bindparam(name))
    if after:
        stmt = stmt.where(pk > bindparam("after"))
    return stmt.order_by(pk).limit(limit + 1)


def _unavailable(source: str, timeout_s: float, message: str) -> Unavailable:
    text = message.lower()
    if "interrupted" in text or "statement timeout" in text or "canceling statement" in text:
        return Unavailable(f"source {source}: the query ran past {timeout_s:g}s; narrow the filter")
    return Unavailable(f"source {source} failed: {message.splitlines()[0] if message else 'error'}")


def run(engine: Engine, stmt: Compiled | Select[Any], *, source: str, timeout_s: float) -> list[Row[Any]]:
    """Run on the source's read-only engine within ``timeout_s``; driver errors name the source."""
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                deadline = time.monotonic() + timeout_s
                raw = conn.connection.dbapi_connection
                assert isinstance(raw, sqlite3.Connection)
                raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 2000)
            if isinstance(stmt, Compiled):
                return list(conn.execute(stmt.stmt, stmt.params).all())
            return list(conn.execute(stmt).all())
    except DBAPIError as exc:
        raise _unavailable(source, timeout_s, str(exc.orig)) from None


def fetch(
    direct: DirectConnection, stmt: Compiled, *, source: str, timeout_s: float
) -> tuple[tuple[str, ...], list[Sequence[Any]]]:
    """Run a cached select on the source's direct connection (this thread's, read-only) within
    ``timeout_s``: the column names and the rows. Driver errors name the source, as in ``run``."""
    prepared = direct.prepared(stmt.stmt)
    try:
        if direct.dialect.name == "sqlite":
            deadline = time.monotonic() + timeout_s
            direct.connection().set_progress_handler(lambda: int(time.monotonic() > deadline), 2000)
        return prepared.columns, direct.fetch(stmt.stmt, stmt.params)
    except direct.errors as exc:
        raise _unavailable(source, timeout_s, str(exc)) from None


def json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def shape(
    rows: Sequence[Sequence[Any]],
    columns: Sequence[str],
    rule: DatasetRule,
    *,
    fields: Sequence[str],
    masks: Mapping[str, Mask],
    limit: int,
) -> tuple[list[dict[str, Any]], str | None, list[str], list[str]]:
    """Items (projection only, masked), the next cursor, and the keys and subjects touched (for the audit).

    ``rows`` are sequences in the order of ``columns`` (``fetch``'s tuples or SQLAlchemy rows)."""
    page = rows[:limit]
    at = {c: i for i, c in enumerate(columns)}
    shown = [(f, at[f], masks.get(f)) for f in fields]
    pk = at[rule.primary_key]
    subject = at[rule.subject_column] if rule.subject_column is not None else None
    items = []
    keys: list[str] = []
    subjects: list[str] = []
    for row in page:
        item = {}
        for f, i, mask in shown:
            value = json_value(row[i])
            item[f] = mask.apply(str(value)) if mask is not None and value is not None else value
        items.append(item)
        keys.append(str(row[pk]))
        if subject is not None and row[subject] is not None:
            subjects.append(str(row[subject]))
    nxt = encode_cursor([json_value(page[-1][pk])]) if len(rows) > limit and page else None
    return items, nxt, keys, subjects
