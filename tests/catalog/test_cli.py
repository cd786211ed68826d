from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ndx import server
from ndx.cli import app
from tests.helpers import make_settings
from tests.ndx.test_app import write_empty_sources


def test_catalog_sync_names_the_failing_source_and_syncs_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls = write_empty_sources(tmp_path / "sources")
    settings = make_settings(tmp_path, **urls)
    server.migrate(settings)
    monkeypatch.setenv("NDX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NDX_SOURCE_LAND", "sqlite:////nonexistent/land.db")
    runner = CliRunner()

    first = runner.invoke(app, ["catalog", "sync"])
    assert first.exit_code == 1
    assert "source land" in first.output and "unreachable" in first.output
    assert "4 datasets in sync" in first.output

    monkeypatch.setenv("NDX_SOURCE_LAND", urls["source_land"])
    second = runner.invoke(app, ["catalog", "sync"])
    assert second.exit_code == 0, second.output
    assert "6 datasets in sync, 2 changes" in second.output

    found = runner.invoke(app, ["catalog", "search", "dat dai"])
    assert found.exit_code == 0
    assert "land-parcel" in found.output and "open-land" in found.output  # the sync publishes open data too
    assert "3 datasets match" in found.output
    assert runner.invoke(app, ["catalog", "reindex"]).exit_code == 0
    assert runner.invoke(app, ["catalog", "search", "thua dat"]).output.count("land-parcel") == 1
