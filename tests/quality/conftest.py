"""Fixtures of the quality tests: hand-made sources on the test's backend, and one run over them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from connectors.registry import Sources
from quality.findings import Finding
from quality.runner import run_checks
from tests.quality.handmade import write_sources

SOURCE_NAMES = ("population", "insurance", "land", "enterprise")


@pytest.fixture
def handmade_urls(new_database_url: Callable[[str], str]) -> dict[str, str]:
    urls = {name: new_database_url(name) for name in SOURCE_NAMES}
    write_sources(urls)
    return urls


@pytest.fixture
def handmade_findings(handmade_urls: dict[str, str]) -> list[Finding]:
    sources = Sources(handmade_urls, timeout_s=60)
    try:
        return run_checks(sources).findings
    finally:
        sources.dispose()
