"""``ndx sources ...``: check the configured sources against the contract; generate demo sources."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from connectors.registry import Sources
from ndx.console import console, fail, parse_assignments, progress_bars, settings_or_exit
from ndx.settings import SOURCE_NAMES

app = typer.Typer(help="The four national source databases.", no_args_is_help=True)
SourceOpt = Annotated[
    list[str] | None, typer.Option("--source", help="Override a source URL: NAME=URL (repeat the flag).")
]


def configured_sources(overrides: list[str] | None) -> Sources:
    """The settings' sources with any ``--source NAME=URL`` applied; an unknown name is an error."""
    given = parse_assignments(overrides, "--source")
    for name in given:
        if name not in SOURCE_NAMES:
            fail(f"--source {name}=...: unknown source; known: {', '.join(SOURCE_NAMES)}", 2)
    settings = settings_or_exit(**{f"source_{name}": url for name, url in given.items()})
    return Sources(settings.source_urls(), timeout_s=settings.source_timeout_s)


@app.command()
def check(source: SourceOpt = None) -> None:
    """Say for each source whether it is reachable and has the contract's tables and columns."""
    sources = configured_sources(source)
    table = Table("source", "url", "status", "problems")
    bad = 0
    for name in sources.urls:
        report = sources.check(name)
        bad += not report.ok
        status = "[green]ok[/]" if report.ok else "[red]FAIL[/]"
        table.add_row(name, report.url, status, "\n".join(report.problems()) or "-")
    sources.dispose()
    console.print(table)
    if bad:
        fail(f"{bad} of {len(sources.urls)} sources do not meet the contract (see above)")


@app.command()
def generate(
    out: Annotated[Path | None, typer.Option(help="Folder for the SQLite files and ground_truth.json.")] = None,
    people: Annotated[int, typer.Option(min=1, help="Number of distinct people in the population.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same databases.")] = 17,
    defect_rate: Annotated[float, typer.Option(min=0.0, max=0.5, help="Share of records given a defect.")] = 0.02,
    url_prefix: Annotated[
        str | None, typer.Option(help="Write PostgreSQL databases <prefix>population, ... instead of SQLite.")
    ] = None,
) -> None:
    """Generate four realistic source databases with known defects, and their ground truth."""
    from connectors.generator import generate as run_generator

    settings = settings_or_exit()
    out_dir = out or settings.data_dir / "sources"
    try:
        with progress_bars() as progress:
            summary = run_generator(
                out_dir=out_dir,
                people=people,
                seed=seed,
                defect_rate=defect_rate,
                url_prefix=url_prefix,
                progress=progress,
            )
    except ValueError as exc:
        fail(str(exc), 2)
    table = Table("table", "rows")
    for name, count in summary.rows.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    console.print(f"ground truth: {out_dir / 'ground_truth.json'} ({sum(summary.defects.values()):,} defects)")
