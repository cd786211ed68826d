"""Expectation suite files (quality/suites/*.yaml): read, validated and expanded, with no GX import.

The files are data a steward can read and extend; quality/gx.py turns them into GX suites.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from connectors.identifiers import provinces
from connectors.schema import SOURCES

SUITES_DIR = Path(__file__).parent / "suites"
_DIGITS = re.compile(r"\$digits\((\w+)\)")


class ExpectationSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str
    kwargs: dict[str, Any] = Field(default_factory=dict)
    field: str
    message: str
    message_vi: str | None = None  # the message in Vietnamese, for the pages and the report


class SuiteSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str
    table: str
    key: str
    expectations: list[ExpectationSpec]

    @property
    def name(self) -> str:
        return f"{self.source}.{self.table}"


class SuiteError(Exception):
    """A suite file is malformed; the message names the file."""


def _expand_sql(query: str) -> str:
    codes = ", ".join(f"'{code}'" for code in sorted(provinces()))
    query = query.replace("$provinces", codes)
    return _DIGITS.sub(
        lambda m: "(" + _strip_digits(m.group(1)) + " = '')",
        query,
    )


def _strip_digits(column: str) -> str:
    expr = column
    for digit in "0123456789":
        expr = f"REPLACE({expr}, '{digit}', '')"
    return expr


def expand(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Replace ``$provinces`` and ``$digits(col)`` with what they stand for."""
    result: dict[str, Any] = {}
    for name, value in kwargs.items():
        if value == "$provinces":
            result[name] = sorted(provinces())
        elif isinstance(value, str) and name.endswith("query"):
            result[name] = _expand_sql(value)
        else:
            result[name] = value
    return result


def load_suite(path: Path) -> SuiteSpec:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        suite = SuiteSpec.model_validate(data)
    except (yaml.YAMLError, ValueError) as exc:
        raise SuiteError(f"{path}: {exc}") from None
    if suite.source not in SOURCES or suite.table not in SOURCES[suite.source].tables:
        raise SuiteError(f"{path}: {suite.name} is not a table of the source contract")
    columns = set(SOURCES[suite.source].tables[suite.table].columns.keys())
    for spec in suite.expectations:
        if spec.field not in columns:
            raise SuiteError(f"{path}: field {spec.field!r} is not a column of {suite.name}")
        if spec.type == "unexpected_rows_expectation" and "{batch}" not in spec.kwargs.get("unexpected_rows_query", ""):
            raise SuiteError(f"{path}: an unexpected_rows_query must read FROM {{batch}}")
    return suite


def load_suites(folder: Path | None = None) -> list[SuiteSpec]:
    return [load_suite(path) for path in sorted((folder or SUITES_DIR).glob("*.yaml"))]
