"""Verification: yes or no per field about one person, never the data itself.

The person is looked up by the dataset's subject column (the column carrying a citizen_id), within the
grant's row filter. A field matches when any of the person's records holds the same value: names after
normalisation (``ndx.textnorm.same_name``: Unicode form, case, spacing, tone-mark placement), dates as
ISO dates, everything else as trimmed text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, Table, select

from ndx.errors import Invalid
from ndx.textnorm import nfc, same_name, squash_spaces
from policies.rules_model import DatasetRule

CITIZEN_ID = re.compile(r"^[0-9]{12}$", re.ASCII)
MAX_MATCHES = 50


def is_name(field: str) -> bool:
    return field == "name" or field.endswith("_name")


def compile_lookup(
    table: Table, rule: DatasetRule, *, citizen_id: str, fields: Sequence[str], row_filter: Mapping[str, Sequence[str]]
) -> Select[Any]:
    from connectors.query import convert

    if rule.subject_column is None:
        raise Invalid(f"{rule.name} has no column carrying a citizen_id: it cannot be verified against")
    if not CITIZEN_ID.match(citizen_id):
        raise Invalid("citizen_id: 12 digits")
    cols = dict.fromkeys([*fields, rule.primary_key, rule.subject_column])
    stmt = select(*(table.c[c] for c in cols)).where(table.c[rule.subject_column] == citizen_id)
    for column, raw_values in row_filter.items():
        stmt = stmt.where(table.c[column].in_([convert(table, column, v) for v in raw_values]))
    return stmt.order_by(table.c[rule.primary_key]).limit(MAX_MATCHES)


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return squash_spaces(nfc(str(value)))


def same(field: str, stored: Any, given: str) -> bool:
    if stored is None:
        return False
    if is_name(field):
        return same_name(str(stored), given)
    if isinstance(stored, date | datetime):
        return _text(stored) == given.strip()
    return _text(stored).casefold() == squash_spaces(nfc(given)).casefold()


def compare(rows: Sequence[Mapping[str, Any]], claims: Mapping[str, str]) -> tuple[bool, dict[str, bool]]:
    """Per field: does any of the person's records hold the claimed value; overall: found and all match."""
    result = {f: any(same(f, row.get(f), given) for row in rows) for f, given in claims.items()}
    return bool(rows) and all(result.values()), result
