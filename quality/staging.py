"""Copy the contract columns of the source tables into one DuckDB database, where cross-source joins and
duplicate detection run set-based.

The sources are separate databases (SQLite files or PostgreSQL databases of four agencies) and DuckDB's
sqlite/postgres scanners are extensions it would download at run time, so the platform streams each table
through SQLAlchemy in batches instead: every value is read as text (dates in ISO form on both back ends),
then typed in DuckDB with TRY_CAST so one malformed value cannot stop a run. At 1,000,000 people this is
a few hundred MB of columnar data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import String, cast, func, select

from connectors.registry import Sources
from connectors.schema import SOURCES

if TYPE_CHECKING:
    import duckdb

Progress = Callable[[str, int, int], None]
BATCH = 100_000

# Columns the cross-source checks and duplicate detection read; the rest stays in the sources.
STAGED: dict[tuple[str, str], Sequence[str]] = {
    ("population", "citizen"): (
        "citizen_id",
        "full_name",
        "date_of_birth",
        "sex",
        "birth_province",
        "province_code",
        "address",
        "household_id",
        "status",
        "date_of_death",
    ),
    ("insurance", "insured_person"): (
        "insurance_id",
        "citizen_id",
        "full_name",
        "date_of_birth",
        "sex",
        "province_code",
        "registered_on",
    ),
    ("insurance", "contribution"): ("contribution_id", "insurance_id", "employer_code", "period"),
    ("land", "land_right"): ("right_id", "parcel_id", "holder_kind", "holder_id", "holder_name", "share"),
    ("enterprise", "enterprise"): (
        "enterprise_code",
        "name",
        "legal_form",
        "province_code",
        "address",
        "industry_code",
        "legal_rep_id",
        "legal_rep_name",
        "registered_on",
        "status",
    ),
}

# How staged text columns are typed in DuckDB (every other column stays VARCHAR).
TYPES: dict[str, str] = {
    "date_of_birth": "DATE",
    "date_of_death": "DATE",
    "registered_on": "DATE",
    "share": "DECIMAL(18,4)",
}


def _noop(_stage: str, _done: int, _total: int) -> None:
    return None


def stage_table(
    sources: Sources, duck: duckdb.DuckDBPyConnection, source: str, name: str, progress: Progress = _noop
) -> int:
    """Copy one table's staged columns to DuckDB as ``<source>_<name>``; returns its row count."""
    import pyarrow as pa

    table = SOURCES[source].tables[name]
    columns = list(STAGED[(source, name)])
    raw = f"raw_{source}_{name}"
    duck.execute(f"CREATE OR REPLACE TABLE {raw} ({', '.join(f'{c} VARCHAR' for c in columns)})")
    engine = sources.engine(source)
    query = select(*[cast(table.c[c], String).label(c) for c in columns])
    label = f"load {source}.{name}"
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(table)).scalar_one()
        progress(label, 0, total)
        done = 0
        result = conn.execution_options(stream_results=True).execute(query)
        while rows := result.fetchmany(BATCH):
            cols = list(zip(*rows, strict=True))
            batch = pa.table({c: pa.array(cols[i], pa.string()) for i, c in enumerate(columns)})
            duck.register("staged_batch", batch)
            duck.execute(f"INSERT INTO {raw} SELECT * FROM staged_batch")  # noqa: S608 (identifiers are module constants)
            duck.unregister("staged_batch")
            done += len(rows)
            progress(label, done, max(total, done))
    typed = ", ".join(f"TRY_CAST(NULLIF(TRIM({c}), '') AS {TYPES[c]}) AS {c}" if c in TYPES else c for c in columns)
    duck.execute(f"CREATE OR REPLACE TABLE {source}_{name} AS SELECT {typed} FROM {raw}")  # noqa: S608 (identifiers are module constants)
    duck.execute(f"DROP TABLE {raw}")
    progress(label, done, done)
    return done


def stage_all(
    sources: Sources, duck: duckdb.DuckDBPyConnection, progress: Progress = _noop
) -> dict[tuple[str, str], int]:
    """Stage every table the checks need; returns row counts by (source, table), staged or not."""
    counts = {key: stage_table(sources, duck, *key, progress=progress) for key in STAGED}
    for source, metadata in SOURCES.items():
        for name, table in metadata.tables.items():
            if (source, name) not in counts:
                with sources.engine(source).connect() as conn:
                    counts[(source, name)] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    return counts
