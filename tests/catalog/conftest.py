"""Catalog test fixtures: a migrated platform database and source databases on the test's backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from catalog.schemas import DatasetIn, FieldIn, ResourceIn
from connectors.engines import source_engine
from connectors.registry import Sources
from connectors.schema import SOURCES
from ndx import migrate
from ndx.db import make_engine
from ndx.settings import SOURCE_NAMES
from policies import service as policy_service

SourceFactory = Callable[..., dict[str, str]]


@pytest.fixture
def platform_url(new_database_url: Callable[[str], str]) -> str:
    url = new_database_url("platform")
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def platform(platform_url: str) -> Iterator[Engine]:
    engine = make_engine(platform_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(platform: Engine) -> Iterator[Session]:
    with Session(platform) as s:
        policy_service.seed_organizations(session=s, by="test")
        yield s


@pytest.fixture
def make_sources(new_database_url: Callable[[str], str]) -> SourceFactory:
    """Write the four contract sources (empty) on the backend; ``rows`` adds rows, ``ddl`` alters a source."""
    made = [0]

    def make(
        rows: dict[str, dict[str, list[dict[str, object]]]] | None = None,
        ddl: dict[str, list[str]] | None = None,
    ) -> dict[str, str]:
        urls = {}
        made[0] += 1
        for name, metadata in SOURCES.items():
            url = new_database_url(f"src{made[0]}_{name}")
            engine = source_engine(url, writable=True)
            metadata.create_all(engine)
            with engine.begin() as conn:
                for statement in (ddl or {}).get(name, []):
                    conn.execute(text(statement))
                for table, values in (rows or {}).get(name, {}).items():
                    conn.execute(metadata.tables[table].insert(), values)
            engine.dispose()
            urls[name] = url
        return urls

    return make


def open_sources(urls: dict[str, str]) -> Sources:
    return Sources({name: urls[name] for name in SOURCE_NAMES if name in urls}, timeout_s=5)


def sample_dataset(name: str, **overrides: object) -> DatasetIn:
    """A registered-by-hand dataset (not from a source), as the open-data issue will register them."""
    values: dict[str, object] = {
        "name": name,
        "owner_org": "bca",
        "title_vi": f"Bộ dữ liệu {name}",
        "title_en": f"Dataset {name}",
        "notes_vi": "Mô tả",
        "notes_en": "Description",
        "classification": "open",
        "license_id": "cc-by-4.0",
        "tags": ["thử nghiệm"],
        "fields": [FieldIn(name="ma", type="VARCHAR(10)", sensitivity="public")],
        "resources": [ResourceIn(name="Tệp CSV", url="https://example.invalid/a.csv", format="csv", size=10)],
    }
    values.update(overrides)
    return DatasetIn.model_validate(values)


def citizens(n: int, start: int = 0) -> list[dict[str, object]]:
    """``n`` valid rows of population.citizen."""
    return [
        {
            "citizen_id": f"0790950{start + i:05d}",
            "full_name": "Nguyễn Văn An",
            "date_of_birth": date(1995, 1, 1),
            "sex": "M",
            "ethnicity": "Kinh",
            "birth_province": "79",
            "province_code": "79",
            "address": "12 Lê Lợi, Phường Bến Thành",
            "status": "alive",
            "updated_at": datetime(2026, 11, 1, 8, 0, 0) + timedelta(minutes=start + i),
        }
        for i in range(n)
    ]
