"""``ndx quality run``: writes findings.json and the report, stores the run, and names what breaks the contract."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ndx.cli import app
from tests.quality.handmade import write_sources
from tests.quality.test_engine import EXPECTED

NAMES = ("population", "insurance", "land", "enterprise")


@pytest.fixture
def sources(tmp_path: Path) -> list[str]:
    urls = {n: f"sqlite:///{tmp_path / 'src' / (n + '.db')}" for n in NAMES}
    (tmp_path / "src").mkdir()
    write_sources(urls)
    return [f"--source={n}={u}" for n, u in urls.items()]


def invoke(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["quality", "run", *args], env={"NDX_DATA_DIR": str(tmp_path / "var")})
    return result.exit_code, result.output


def test_run_writes_findings_and_report_and_keeps_ids(tmp_path: Path, sources: list[str]) -> None:
    code, output = invoke(tmp_path, *sources, "--out", str(tmp_path / "out"))
    assert code == 0, output
    doc = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))
    assert len(doc["findings"]) == len(EXPECTED)
    first = doc["findings"][0]
    assert set(first) == {"check", "records", "field", "confidence", "message"}
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Mới có một lượt kiểm tra" in html  # the report is in Vietnamese
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert 'class="differs' in html
    assert f"{len(EXPECTED)} findings ({len(EXPECTED)} new" in " ".join(output.split())

    code, output = invoke(tmp_path, *sources, "--out", str(tmp_path / "out"), "--checks", "invalid_value")
    assert code == 0, output
    invalid = sum(1 for check, _, _ in EXPECTED if check == "invalid_value")
    assert f"{invalid} findings (0 new, {invalid} seen before)" in " ".join(output.split())
    assert "<svg" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


def test_a_missing_column_is_named(tmp_path: Path, sources: list[str]) -> None:
    with sqlite3.connect(tmp_path / "src" / "land.db") as conn:
        conn.execute("ALTER TABLE land_right DROP COLUMN share")
    code, output = invoke(tmp_path, *sources)
    assert code == 1
    assert "missing column land.land_right.share" in " ".join(output.split())


def test_an_unreachable_source_and_an_unknown_check_are_errors(tmp_path: Path, sources: list[str]) -> None:
    code, output = invoke(tmp_path, *sources[:3], f"--source=enterprise=sqlite:///{tmp_path / 'nope.db'}")
    assert code == 1
    assert "nope.db" in output
    code, output = invoke(tmp_path, *sources, "--checks", "spelling")
    assert code == 2
    assert "unknown check spelling" in output
