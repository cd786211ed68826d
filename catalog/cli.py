"""``ndx catalog ...``: sync the catalog from the sources, rebuild the search index, search from a terminal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from catalog import harvest, search, service
from catalog.harvest import HarvestError, Outcome
from catalog.opendata.publish import publish_open_data
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
            published = publish_open_data(
                session=session, sources=sources, data_dir=settings.data_dir, min_cell=settings.open_data_min_cell
            )
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
    console.print(f"open data: {len(published.datasets)} datasets published under {settings.data_dir / 'open'}")
    for name, problem in published.failures.items():
        err_console.print(f"[bold red]open data {name}:[/] {problem}", highlight=False, soft_wrap=True)
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


def _progress_run(label: str, work: Callable[[Callable[[int, int], None]], Outcome]) -> Outcome:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err_console) as bar:
        task = bar.add_task(label, total=None)

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            return work(step)
        except HarvestError as exc:
            bar.stop()
            fail(str(exc))


def _report(outcome: Outcome) -> None:
    console.print(f"{len(outcome.created)} created, {len(outcome.updated)} updated, {len(outcome.skipped)} skipped")
    for name, why in outcome.skipped.items():
        err_console.print(f"[yellow]skipped {name}:[/] {why}", highlight=False, soft_wrap=True)


@app.command("publish")
def publish_command(
    to: Annotated[str, typer.Option("--to", help="Base URL of the CKAN portal to publish to.")],
    token: Annotated[str, typer.Option("--token", help="API key of an account allowed to write there.")],
    site_url: Annotated[
        str | None, typer.Option("--site-url", help="This NDX's public base URL (for download links).")
    ] = None,
    timeout: Annotated[float, typer.Option(min=1, max=600, help="Seconds to wait for each call.")] = 30.0,
    create_orgs: Annotated[bool, typer.Option(help="Create missing organizations on the portal.")] = True,
) -> None:
    """Push the open datasets to a CKAN portal: updated when there, created when not (run it again safely)."""
    settings = settings_or_exit()
    engine = make_engine(settings.platform_url)
    base = (site_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    try:
        with Session(engine) as session:
            outcome = _progress_run(
                f"publishing to {to}",
                lambda step: harvest.publish(
                    session=session,
                    to_url=to,
                    token=token,
                    site_url=base,
                    timeout_s=timeout,
                    create_orgs=create_orgs,
                    progress=step,
                ),
            )
    finally:
        engine.dispose()
    _report(outcome)


@app.command("harvest")
def harvest_command(
    from_: Annotated[str, typer.Option("--from", help="Base URL of the CKAN portal to harvest.")],
    timeout: Annotated[float, typer.Option(min=1, max=600, help="Seconds to wait for each call.")] = 30.0,
) -> None:
    """Register the datasets of a CKAN portal here, marked as harvested from it (run it again to refresh)."""
    settings = settings_or_exit()
    engine = make_engine(settings.platform_url)
    try:
        with Session(engine) as session:
            outcome = _progress_run(
                f"harvesting {from_}",
                lambda step: harvest.harvest(session=session, from_url=from_, timeout_s=timeout, progress=step),
            )
    finally:
        engine.dispose()
    _report(outcome)
