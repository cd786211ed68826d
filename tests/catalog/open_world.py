"""A served NDX with open data, for the CKAN, DCAT, open-data and harvest tests.

Generated sources (``connectors.generator``, cached per session), a migrated platform database on the test's
backend with the agencies, accounts and tokens, the catalog synced and the open datasets published (as
``ndx catalog sync`` does), then uvicorn on a loopback port. Import the fixtures into a test module with
``from tests.catalog.open_world import generated_fixture, open_world_fixture  # noqa: F401``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from catalog.opendata.publish import PublishReport, publish_open_data
from catalog.sync import sync_catalog
from connectors.generator import generate
from connectors.registry import Sources
from ndx import server
from ndx.db import make_engine
from ndx.settings import Settings
from tests.conftest import BACKENDS, PostgresDatabases
from tests.e2e.conftest import serve
from tests.helpers import make_settings
from tests.policies.world import seed_accounts

PEOPLE = 20_000
SEED = 20261124
MIN_CELL = 10


@dataclass
class OpenWorld:
    url: str
    tokens: dict[str, str]
    settings: Settings
    published: PublishReport

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir


@pytest.fixture(scope="session", name="generated")
def generated_fixture(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Source URLs of generated data (SQLite files), written once per test session."""
    out = tmp_path_factory.mktemp("open-sources")
    summary = generate(out_dir=out, people=PEOPLE, seed=SEED)
    return {f"source_{name}": f"sqlite:///{path}" for name, path in summary.outputs.items()}


def platform_url_for(backend: str, folder: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'platform.db'}"
    dbs: PostgresDatabases = request.getfixturevalue("postgres_databases")
    return dbs.create("ndx_open")


def prepare(
    folder: Path, database_url: str, sources: dict[str, str], **overrides: object
) -> tuple[Settings, dict[str, str], PublishReport]:
    """Migrate, seed accounts, sync the catalog and publish the open data (what ``ndx catalog sync`` does)."""
    settings = make_settings(folder, database_url, open_data_min_cell=MIN_CELL, **sources, **overrides)
    server.migrate(settings)
    tokens = seed_accounts(settings.platform_url)
    engine = make_engine(settings.platform_url)
    src = Sources(settings.source_urls(), timeout_s=30)
    try:
        with Session(engine) as session:
            assert sync_catalog(session=session, sources=src).ok
            published = publish_open_data(
                session=session, sources=src, data_dir=settings.data_dir, min_cell=settings.open_data_min_cell
            )
    finally:
        src.dispose()
        engine.dispose()
    assert not published.failures, published.failures
    return settings, tokens, published


@pytest.fixture(scope="module", params=BACKENDS, name="open_world")
def open_world_fixture(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, generated: dict[str, str]
) -> Iterator[OpenWorld]:
    folder = tmp_path_factory.mktemp(f"open-{request.param}")
    url = platform_url_for(str(request.param), folder, request)
    settings, tokens, published = prepare(folder, url, generated)
    with serve(settings, migrate=False) as base:
        yield OpenWorld(url=base, tokens=tokens, settings=settings, published=published)
