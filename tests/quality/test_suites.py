from __future__ import annotations

from pathlib import Path

import pytest

from connectors.schema import SOURCES
from quality.suites import SuiteError, expand, load_suite, load_suites


def test_every_contract_table_has_a_suite() -> None:
    names = {s.name for s in load_suites()}
    assert names == {f"{src}.{t}" for src, md in SOURCES.items() for t in md.tables}


def test_placeholders_expand() -> None:
    out = expand({"value_set": "$provinces", "unexpected_rows_query": "WHERE $digits(x) AND y IN ($provinces)"})
    assert "79" in out["value_set"]
    assert "'79'" in out["unexpected_rows_query"]
    assert "$" not in out["unexpected_rows_query"]


def test_a_suite_naming_an_unknown_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "source: population\ntable: citizen\nkey: citizen_id\nexpectations:\n"
        "  - {type: expect_column_values_to_not_be_null, kwargs: {column: nope}, field: nope, message: m}\n"
    )
    with pytest.raises(SuiteError, match="nope"):
        load_suite(path)
