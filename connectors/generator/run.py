"""The entry point: check the arguments, build the sources, write them all or nothing, say what was written."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from connectors.engines import describe_url
from connectors.generator import writer
from connectors.generator.build import World, build_world
from connectors.schema import SOURCES

GROUND_TRUTH = "ground_truth.json"


@dataclass
class GenerationSummary:
    """What ``generate`` wrote: rows per table, injected defects per check, where, and how long it took."""

    people: int
    seed: int
    defect_rate: float
    rows: dict[str, int]  # 'population.citizen' -> rows
    defects: dict[str, int]  # check -> findings in the ground truth
    outputs: dict[str, str]  # source -> SQLite path or database URL (password hidden)
    ground_truth: Path
    elapsed_s: float


def _check_arguments(people: int, seed: int, defect_rate: float, url_prefix: str | None) -> None:
    if isinstance(people, bool) or not isinstance(people, int) or people < 1:
        raise ValueError(f"people must be a whole number of at least 1, got {people!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a whole number of at least 0, got {seed!r}")
    if not isinstance(defect_rate, int | float) or math.isnan(defect_rate) or not 0 <= defect_rate <= 0.5:
        raise ValueError(f"defect_rate must be between 0 and 0.5, got {defect_rate!r}")
    if url_prefix is not None:
        try:
            backend = make_url(f"{url_prefix}population").get_backend_name()
        except ArgumentError as exc:
            raise ValueError(f"url_prefix is not a database URL: {url_prefix!r}") from exc
        if backend != "postgresql":
            raise ValueError(f"url_prefix must be a PostgreSQL URL (postgresql+psycopg://...), got {backend!r}")


def generate(
    *,
    out_dir: Path,
    people: int,
    seed: int,
    defect_rate: float = 0.02,
    url_prefix: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> GenerationSummary:
    """Write the four source databases and ``out_dir/ground_truth.json``; the same seed gives the same data.

    SQLite files (``population.db``, ...) go to ``out_dir`` unless ``url_prefix`` names PostgreSQL databases
    (``<prefix>population``, ...: created when missing, their tables replaced). Raises ValueError with a
    one-line message for bad arguments or an unreachable server, before anything is generated.
    """
    started = time.perf_counter()
    _check_arguments(people, seed, defect_rate, url_prefix)
    report = progress or (lambda stage, done, total: None)
    urls = {source: f"{url_prefix}{source}" for source in SOURCES} if url_prefix else {}
    for url in urls.values():
        writer.ensure_database(url)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    world = build_world(people=people, seed=seed, rate=float(defect_rate), progress=report)
    outputs = _write_postgres(world, urls, report) if urls else _write_sqlite(world, out_dir, report)
    truth = out_dir / GROUND_TRUTH
    _replace_file(truth, world.truth_json)
    return GenerationSummary(
        people=people,
        seed=seed,
        defect_rate=float(defect_rate),
        rows={t.qualified: t.n for tables in world.tables.values() for t in tables},
        defects=world.defects,
        outputs=outputs,
        ground_truth=truth,
        elapsed_s=time.perf_counter() - started,
    )


def _write_postgres(world: World, urls: dict[str, str], report: Callable[[str, int, int], None]) -> dict[str, str]:
    for source, tables in world.tables.items():
        writer.write_postgres(urls[source], source, tables, report)
    return {source: describe_url(url) for source, url in urls.items()}


def _write_sqlite(world: World, out_dir: Path, report: Callable[[str, int, int], None]) -> dict[str, str]:
    """All four files are written under temporary names first and renamed only when all succeeded."""
    temporary = {source: out_dir / f".{source}.db.{os.getpid()}.partial" for source in world.tables}
    try:
        for source, tables in world.tables.items():
            temporary[source].unlink(missing_ok=True)
            writer.write_sqlite(temporary[source], source, tables, report)
        for source, path in temporary.items():
            final = out_dir / f"{source}.db"
            for stale in ("-wal", "-shm", "-journal"):  # left by an earlier reader: never let SQLite replay them
                Path(f"{final}{stale}").unlink(missing_ok=True)
            os.replace(path, final)
    finally:
        for path in temporary.values():
            path.unlink(missing_ok=True)
    return {source: str(out_dir / f"{source}.db") for source in world.tables}


def _replace_file(path: Path, content: str) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        partial.write_text(content, encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
