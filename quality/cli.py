"""``ndx quality run``: check the sources, store the findings, write findings.json and the HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from connectors.cli import configured_sources
from connectors.contract import ContractError
from connectors.engines import describe_url
from connectors.registry import Sources
from ndx.console import console, fail, progress_bars, settings_or_exit
from ndx.db import make_engine
from ndx.migrate import upgrade
from quality import report, service
from quality.findings import CHECKS, write_findings
from quality.runner import parse_checks, run_checks

app = typer.Typer(help="Data quality: duplicated and inconsistent records in the sources.", no_args_is_help=True)
SourceOpt = Annotated[
    list[str] | None, typer.Option("--source", help="Override a source URL: NAME=URL (repeat the flag).")
]
# Whole-table reads take longer than the API's per-query limit.
RUN_TIMEOUT_S = 1800.0


@app.command()
def run(
    source: SourceOpt = None,
    out: Annotated[Path | None, typer.Option(help="Folder for findings.json and report.html.")] = None,
    checks: Annotated[
        str | None, typer.Option(help=f"Comma-separated checks to run (default all): {', '.join(CHECKS)}.")
    ] = None,
) -> None:
    """Run every quality check over the sources; store the run and write findings.json and report.html."""
    settings = settings_or_exit()
    configured = configured_sources(source)
    sources = Sources(configured.urls, timeout_s=max(RUN_TIMEOUT_S, settings.source_timeout_s))
    try:
        wanted = parse_checks(checks)
    except ValueError as exc:
        fail(f"--checks: {exc}", 2)
    out_dir = out or settings.data_dir / "quality"
    engine = make_engine(settings.platform_url)
    upgrade(engine)
    try:
        with Session(engine, expire_on_commit=False) as session:
            stored = _run(session, sources, wanted, out_dir)
    finally:
        sources.dispose()
        engine.dispose()
    _summary(stored, out_dir)


def _run(session: Session, sources: Sources, wanted: list[str], out_dir: Path) -> service.StoredRun:
    described = {name: describe_url(url) for name, url in sources.urls.items()}
    qrun = service.start_run(session=session, checks=wanted, sources=described)
    try:
        with progress_bars() as progress:
            result = run_checks(sources, wanted, progress)
    except ContractError as exc:
        service.fail_run(session=session, run=qrun)
        fail(str(exc))
    except Exception:
        service.fail_run(session=session, run=qrun)
        raise
    stored = service.store_run(
        session=session, run=qrun, findings=result.findings, row_counts=result.row_counts, timings=result.timings
    )
    write_findings(out_dir / "findings.json", result.findings)
    report.write_report(out_dir / "report.html", session=session, run=qrun, sources=sources)
    return stored


def _summary(stored: service.StoredRun, out_dir: Path) -> None:
    run = stored.run
    table = Table("check", "dataset", "findings", title=f"quality run {run.id}")
    for check in CHECKS:
        for dataset, count in sorted(run.counts.get(check, {}).items()):
            table.add_row(check, dataset, f"{count:,}")
    console.print(table)
    scores = Table("dataset", "rows", "quality score", title="dataset scores")
    for dataset, score in sorted(run.scores.items()):
        table_name = service.DATASET_TABLES[dataset]
        scores.add_row(dataset, f"{run.row_counts.get(table_name, 0):,}", f"{score:.2f}")
    console.print(scores)
    console.print(
        f"{run.total_findings:,} findings ({stored.new:,} new, {stored.recurring:,} seen before), "
        f"{run.open_findings:,} open; written to {out_dir / 'findings.json'} and {out_dir / 'report.html'}"
    )
