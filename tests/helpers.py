"""One way to build an app for tests (datasette's make_app_client): migrated platform DB, given sources."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient

from ndx import server
from ndx.app import create_app
from ndx.settings import Settings, load_settings


def make_settings(data_dir: Path, database_url: str | None = None, **overrides: object) -> Settings:
    return load_settings(data_dir=data_dir, database_url=database_url, **overrides)


@contextmanager
def app_client(settings: Settings, *, migrate: bool = True) -> Iterator[TestClient]:
    """A TestClient over a freshly built app; the platform database is migrated first."""
    if migrate:
        server.migrate(settings)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client
