"""Fixtures of the policies tests: a migrated, empty platform database on the test's backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.engine import Engine

from ndx import migrate
from ndx.db import make_engine


@pytest.fixture
def engine(new_database_url: Callable[[str], str]) -> Iterator[Engine]:
    """A platform database at the latest migration (a test file may define its own ``engine`` instead)."""
    eng = make_engine(new_database_url("platform"))
    migrate.upgrade(eng)
    yield eng
    eng.dispose()
