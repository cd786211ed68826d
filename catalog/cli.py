"""``ndx catalog ...``: sync the catalog from the sources, rebuild the search index, search from a terminal."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from catalog import search, service
from catalog.search.base import SearchParams
from catalog.sync import SyncReport, sync_catalog
from connectors.registry import Sources
from ndx.console import console, err_console, fail, parse_assignments, settings_or_exit
from ndx.db import make_engine
from ndx.settings import SOURCE_NAMES, Settings

app = typer.Typer(help="The dataset catalog.", no_args_is_help=True)
SourceOpt = Annotated[
    list[str] | None, typer.Option("--source", help="Override a source URL: NAME=URL (repeat the flag).")
]


def run_sync(settings: Settings) -> SyncReport:
    """Sync the catalog from the settings' sources and print what changed and what failed."""
    sources = Sources(settings.source_urls(), timeout_s=settings.source_timeout_s)
    engine = make_engine(settings.platform_url)
    try:
        with Session(engine) as session:
            report = sync_catalog(session=session, sources=sources)
    finally:
        sources.dispose()
        engine.dispose()
    if report.changes:
        table = Table("dataset", "change", "field", "old", "new")
        for c in report.changes:
            table.add_row(c.dataset, c.kind, c.field or "", _short(c.old), _short(c.new))
        console.print(table)
    console.print(
        f"catalog: {len(report.datasets)} datasets in sync, {len(report.changes)} changes (sync run {report.run_id})"
    )
    for source, problem in report.failures.items():
        err_console.print(f"[bold red]source {source}:[/] {problem}", highlight=False, soft_wrap=True)
    return report


def _short(value: str | None, width: int = 60) -> str:
    if not value:
        return ""
    return value if len(value) <= width else value[: width - 1] + "…"


@app.command()
def sync(source: SourceOpt = None) -> None:
    """Register or refresh one dataset per source table; exit 1 if a source is down or breaks the contract."""
    given = parse_assignments(source, "--source")
    for name in given:
        if name not in SOURCE_NAMES:
            fail(f"--source {name}=...: unknown source; known: {', '.join(SOURCE_NAMES)}", 2)
    settings = settings_or_exit(**{f"source_{name}": url for name, url in given.items()})
    report = run_sync(settings)
    if not report.ok:
        fail(f"{len(report.failures)} source(s) could not be synced: {', '.join(report.failures)}")


@app.command()
def reindex() -> None:
    """Rebuild the full-text search index from the stored dataset descriptions."""
    settings = settings_or_exit()
    engine = make_engine(settings.platform_url)
    with Session(engine) as session:
        search.rebuild_index(session)
    engine.dispose()
    console.print("search index rebuilt")


@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="Words to find, with or without diacritics.")] = "",
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many results to show.")] = 20,
) -> None:
    """Search the catalog from the terminal, as the API and the pages do."""
    settings = settings_or_exit()
    engine = make_engine(settings.platform_url)
    with Session(engine) as session:
        result = service.search_datasets(session=session, params=SearchParams(q=query, limit=limit, facets=False))
    engine.dispose()
    table = Table("name", "title", "organization", "classification")
    for d in result.items:
        table.add_row(d.name, d.title, d.owner_org, d.classification)
    console.print(table)
    console.print(f"{result.count} datasets match")
