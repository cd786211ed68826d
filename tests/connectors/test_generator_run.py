"""The entry point's promises: determinism, clear refusals, nothing half-written, progress, PostgreSQL parity."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from connectors.generator import generate, writer
from connectors.generator.tables import TableData
from tests.conftest import PostgresDatabases
from tests.connectors import sqlcheck
from tests.connectors.test_generator import postgres_prefix

SMALL = 2_000


def sqlite_urls(out: Path) -> dict[str, str]:
    return {s: f"sqlite:///{out / f'{s}.db'}" for s in sqlcheck.TABLES}


def test_same_seed_same_data_other_seed_other_data(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(out_dir=a, people=SMALL, seed=3)
    generate(out_dir=b, people=SMALL, seed=3)
    generate(out_dir=c, people=SMALL, seed=4)
    truth = [(d / "ground_truth.json").read_bytes() for d in (a, b, c)]
    assert truth[0] == truth[1] != truth[2]
    digests = [sqlcheck.digest(sqlite_urls(d)) for d in (a, b, c)]
    assert digests[0] == digests[1] != digests[2]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"people": 0}, "people must be"),
        ({"people": -5}, "people must be"),
        ({"seed": -1}, "seed must be"),
        ({"defect_rate": -0.01}, "defect_rate must be between 0 and 0.5"),
        ({"defect_rate": 0.51}, "defect_rate must be between 0 and 0.5"),
        ({"defect_rate": float("nan")}, "defect_rate must be between 0 and 0.5"),
        ({"url_prefix": "sqlite:///tmp/x_"}, "must be a PostgreSQL URL"),
        ({"url_prefix": "not a url"}, "not a database URL"),
        ({"url_prefix": "postgresql+psycopg://postgres@127.0.0.1:9/ndx_"}, "cannot reach PostgreSQL"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {"people": 10, "seed": 1, **kwargs}
    with pytest.raises(ValueError, match=message) as raised:
        generate(out_dir=tmp_path / "out", **arguments)  # type: ignore[arg-type]
    assert "\n" not in str(raised.value)
    assert not (tmp_path / "out").exists()


def test_a_failure_leaves_the_previous_files_and_nothing_half_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate(out_dir=tmp_path, people=200, seed=1)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    real = writer.write_sqlite

    def failing(path: Path, source: str, tables: list[TableData], progress: writer.Progress) -> None:
        real(path, source, tables, progress)
        if source == "land":
            raise OSError("disk full")

    monkeypatch.setattr(writer, "write_sqlite", failing)
    with pytest.raises(OSError, match="disk full"):
        generate(out_dir=tmp_path, people=300, seed=2)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_progress_is_reported_per_stage_and_table(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    summary = generate(out_dir=tmp_path, people=500, seed=1, progress=lambda *a: calls.append(a))
    stages = {stage for stage, _, _ in calls}
    assert "generate" in stages
    for table, rows in summary.rows.items():
        assert (f"write {table}", rows, rows) in calls
    assert summary.elapsed_s > 0 and summary.ground_truth == tmp_path / "ground_truth.json"
    assert all(Path(p).exists() for p in summary.outputs.values())


def test_stale_sqlite_journals_are_removed(tmp_path: Path) -> None:
    (tmp_path / "population.db-wal").write_bytes(b"stale")
    generate(out_dir=tmp_path, people=50, seed=1)
    assert not (tmp_path / "population.db-wal").exists()
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".partial")]


@pytest.mark.postgres
def test_postgres_gets_the_same_rows_and_truth_as_sqlite(tmp_path: Path, postgres_databases: PostgresDatabases) -> None:
    lite, pg = tmp_path / "lite", tmp_path / "pg"
    generate(out_dir=lite, people=SMALL, seed=5)
    prefix = postgres_prefix(postgres_databases)
    generate(out_dir=pg, people=300, seed=9, url_prefix=prefix)  # first fill: replaced below
    summary = generate(out_dir=pg, people=SMALL, seed=5, url_prefix=prefix)
    assert (lite / "ground_truth.json").read_bytes() == (pg / "ground_truth.json").read_bytes()
    pg_urls = {s: f"{prefix}{s}" for s in sqlcheck.TABLES}
    assert sqlcheck.load(sqlite_urls(lite)) == sqlcheck.load(pg_urls)
    assert "postgresql" in summary.outputs["population"] and not list(pg.glob("*.db"))
