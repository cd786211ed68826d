"""The ``ndx`` command: assembles each domain's commands. Assembly only: the steps live in the domains."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.orm import Session

import catalog.models  # noqa: F401  (registers the platform tables for migrations)
import policies.models  # noqa: F401
from catalog import cli as catalog_cli
from connectors import cli as sources_cli
from ndx import server
from ndx.console import console, fail, progress_bars, settings_or_exit
from ndx.db import make_engine
from ndx.settings import Settings
from policies import cli as policies_cli
from policies import service as policy_service
from policies.audit_actions import command_line
from quality import cli as quality_cli

app = typer.Typer(
    help="NDX — the national data exchange.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="The platform database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(sources_cli.app, name="sources")
app.add_typer(catalog_cli.app, name="catalog")
app.add_typer(policies_cli.orgs_app, name="orgs")
app.add_typer(policies_cli.users_app, name="users")
app.add_typer(policies_cli.tokens_app, name="tokens")
app.add_typer(policies_cli.audit_app, name="audit")
app.add_typer(quality_cli.app, name="quality")

HostOpt = Annotated[str | None, typer.Option(help="Address to listen on (default NDX_HOST).")]
PortOpt = Annotated[int | None, typer.Option(min=1, max=65535, help="Port to listen on (default NDX_PORT).")]


def _migrate(settings: Settings, revision: str = "heads") -> None:
    try:
        server.migrate(settings, revision)
    except server.SetupError as exc:
        fail(str(exc))


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "heads") -> None:
    """Apply the platform database's migrations up to REVISION."""
    _migrate(settings_or_exit(), revision)
    console.print(f"platform database migrated to {revision}")


@app.command()
def serve(
    host: HostOpt = None,
    port: PortOpt = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Serve the web pages and APIs (migrate first: `ndx db upgrade`)."""
    settings = settings_or_exit()
    if workers > 1 and not settings.redis_url:
        console.print(
            f"[yellow]warning[/]: NDX_REDIS_URL is not set, so each of the {workers} workers counts rate limits "
            "and failed sign-ins on its own (a client may get up to that many times the limits); set it to share them"
        )
    server.serve(settings, host=host, port=port, workers=workers)


@app.command()
def demo(
    host: HostOpt = None,
    port: PortOpt = None,
    people: Annotated[int, typer.Option(min=1, help="People to generate when the sources are missing.")] = 20_000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Prepare everything, then exit.")] = False,
) -> None:
    """Generate demo sources if missing, migrate, seed demo organizations and accounts, then serve."""
    settings = settings_or_exit()
    sources_dir = settings.data_dir / "sources"
    default_urls = {f"sqlite:///{sources_dir / f'{n}.db'}" for n in settings.source_urls()}
    missing = [
        url
        for url in settings.source_urls().values()
        if url in default_urls and not sources_dir.joinpath(url.rsplit("/", 1)[-1]).exists()
    ]
    if missing:
        from connectors.generator import generate

        console.print(f"generating demo sources for {people:,} people in {sources_dir} ...")
        with progress_bars() as progress:
            generate(out_dir=sources_dir, people=people, seed=17, progress=progress)
    _migrate(settings)
    engine = make_engine(settings.platform_url)
    with Session(engine) as session:
        orgs = policy_service.seed_organizations(session=session, by=command_line())
        console.print("organizations: " + ", ".join(f"{o.code} ({o.name_en})" for o in orgs))
        policies_cli.print_demo_accounts(
            policies_cli.seed_demo_accounts(session=session, token_days=settings.token_days)
        )
    engine.dispose()
    catalog_cli.run_sync(settings)
    policies_cli.ensure_demo_secret(settings.data_dir)
    url = f"http://{host or settings.host}:{port or settings.port}"
    console.print(f"NDX demo ready: {url}  (API docs {url}/docs)")
    if not no_serve:
        server.serve(settings, host=host, port=port, workers=1)


def main() -> None:
    app()
