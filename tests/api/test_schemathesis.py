"""Property-based API testing with schemathesis over the whole OpenAPI schema: every operation, with generated
valid and invalid input, as an administrator and anonymously. No answer may be a 5xx, every status must be
declared, and every body must match its declared schema (errors: the one documented error shape).

The app is served by uvicorn (tests/e2e/conftest.py's ``serve``) so its lifespan runs (the audit writer), and
schemathesis calls it over HTTP. Examples are bounded per operation so the module runs in about a minute.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from ndx.app import create_app
from policies.rules_model import dataset_rules
from tests.e2e.conftest import serve
from tests.helpers import make_settings
from tests.policies.world import seed_accounts, write_sources

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
EXAMPLES = 25
NAMES = sorted(dataset_rules())[:3]


@dataclass(frozen=True)
class Served:
    url: str
    admin: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder: Path = tmp_path_factory.mktemp("ndx-schemathesis")
    urls, _ = write_sources(folder / "sources", people=60)
    config = make_settings(folder, **urls)
    from ndx import server

    server.migrate(config)
    tokens = seed_accounts(config.platform_url)
    with serve(config, migrate=False) as url:
        yield Served(url, tokens["admin"])


def _schema() -> schemathesis.BaseSchema:
    """The app's own OpenAPI document (from an app on empty settings: the schema does not depend on data)."""
    app = create_app(make_settings(Path(tempfile.mkdtemp(prefix="ndx-openapi-"))))
    return schemathesis.openapi.from_dict(app.openapi())


SCHEMA = _schema()
OPERATIONS = [result.ok().label for result in SCHEMA.get_all_operations()]  # type: ignore[union-attr]


def run(label: str, served: Served, *, headers: dict[str, str], examples: int) -> None:
    """Generated cases of one operation (schemathesis's pytest plugin does not run under pytest 9)."""
    operation = SCHEMA.find_operation_by_label(label)
    assert operation is not None

    strategies = [operation.as_strategy(mode) for mode in GenerationMode]
    if "{name}" in operation.path:  # also real dataset names, so the routes go past their 404
        strategies += [
            operation.as_strategy(mode, path_parameters={"name": n}) for mode in GenerationMode for n in NAMES
        ]

    @given(case=st.one_of(strategies))
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def check(case: Case[Any]) -> None:
        case.call_and_validate(base_url=served.url, headers=headers, checks=CHECKS, timeout=30)

    check()


@pytest.mark.parametrize("label", OPERATIONS)
def test_api_as_admin(label: str, served: Served) -> None:
    run(label, served, headers={"Authorization": f"Bearer {served.admin}"}, examples=EXAMPLES)


@pytest.mark.parametrize("label", OPERATIONS)
def test_api_anonymously(label: str, served: Served) -> None:
    run(label, served, headers={}, examples=EXAMPLES // 2)
