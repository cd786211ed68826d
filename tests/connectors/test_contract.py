from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, Table, text
from sqlalchemy.exc import OperationalError

from connectors.contract import check_source
from connectors.engines import source_engine
from connectors.schema import SOURCES
from tests.ndx.test_app import write_empty_sources


def test_a_database_meeting_the_contract_passes(new_database_url: Callable[[str], str]) -> None:
    url = new_database_url("land")
    writer = source_engine(url, writable=True)
    SOURCES["land"].create_all(writer)
    with writer.begin() as conn:  # extra tables and columns are the owner's business
        conn.execute(text("CREATE TABLE extra_notes (id INTEGER PRIMARY KEY)"))
    writer.dispose()
    report = check_source("land", source_engine(url), url)
    assert report.ok, report.problems()


def test_missing_table_and_column_are_named(new_database_url: Callable[[str], str]) -> None:
    url = new_database_url("enterprise")
    writer = source_engine(url, writable=True)
    broken = MetaData()
    Table(
        "enterprise",
        broken,
        *(Column(c.name, String(20)) for c in SOURCES["enterprise"].tables["enterprise"].c if c.name != "legal_rep_id"),
    )
    broken.create_all(writer)
    writer.dispose()
    report = check_source("enterprise", source_engine(url), url)
    assert not report.ok
    assert report.problems() == ["missing column enterprise.enterprise.legal_rep_id"]

    url2 = new_database_url("insurance")
    writer = source_engine(url2, writable=True)
    SOURCES["insurance"].tables["insured_person"].create(writer)
    writer.dispose()
    report2 = check_source("insurance", source_engine(url2), url2)
    assert report2.problems() == ["missing table insurance.contribution"]


def test_read_only_engine_refuses_writes(tmp_path: Path) -> None:
    urls = write_empty_sources(tmp_path)
    engine = source_engine(urls["source_land"])
    with engine.connect() as conn, pytest.raises(OperationalError, match="readonly"):
        conn.execute(text("DELETE FROM parcel"))
    engine.dispose()


def test_cli_check_names_what_is_missing(tmp_path: Path) -> None:
    urls = write_empty_sources(tmp_path / "sources")
    (tmp_path / "sources" / "insurance.db").unlink()
    env = {"NDX_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "COLUMNS": "200"}
    proc = subprocess.run(
        [sys.executable, "-m", "ndx", "sources", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert "insurance" in proc.stdout and "no such file" in proc.stdout
    assert "1 of 4 sources" in proc.stderr
    ok = subprocess.run(
        [sys.executable, "-m", "ndx", "sources", "check", "--source", f"insurance={urls['source_land']}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "missing table insurance.insured_person" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "ndx", "sources", "check", "--source", "tax=sqlite://"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert "unknown source" in bad.stderr
