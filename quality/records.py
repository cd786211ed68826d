"""Read the source rows a finding names, to show them side by side (report and steward pages)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from connectors.registry import Sources
from connectors.schema import SOURCES
from quality.findings import RecordRef

CHUNK = 500


def fetch_records(sources: Sources, refs: Iterable[RecordRef]) -> dict[RecordRef, dict[str, Any]]:
    """The rows of these records by reference, read through each source's read-only engine.

    A record that is gone, or a source that cannot be read, is simply absent from the answer.
    """
    wanted: dict[str, set[str]] = {}
    for ref in refs:
        wanted.setdefault(ref.table, set()).add(ref.key)
    found: dict[RecordRef, dict[str, Any]] = {}
    for qualified, keys in wanted.items():
        source, _, name = qualified.partition(".")
        if source not in SOURCES or name not in SOURCES[source].tables or source not in sources.urls:
            continue
        table = SOURCES[source].tables[name]
        pk = next(iter(table.primary_key.columns))
        values: list[Any] = sorted(keys)
        if pk.type.python_type is int:
            values = [int(k) for k in values if k.lstrip("-").isdigit()]
        try:
            with sources.engine(source).connect() as conn:
                for i in range(0, len(values), CHUNK):
                    for row in conn.execute(select(table).where(pk.in_(values[i : i + CHUNK]))).mappings():
                        found[RecordRef(qualified, str(row[pk.name]))] = dict(row)
        except (SQLAlchemyError, ValueError):
            continue
    return found


def side_by_side(rows: list[dict[str, Any] | None]) -> list[tuple[str, list[str], bool]]:
    """(column, value in each record, whether they differ) over the union of the records' columns."""
    columns: list[str] = []
    for row in rows:
        for column in row or {}:
            if column not in columns:
                columns.append(column)
    lines = []
    for column in columns:
        values = ["" if row is None or row.get(column) is None else str(row[column]) for row in rows]
        lines.append((column, values, len(set(values)) > 1))
    return lines
