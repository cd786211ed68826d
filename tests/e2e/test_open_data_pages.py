"""Browser test of the open-data pages in headless Chromium: find an open dataset, preview it, download it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.catalog.open_world import generated_fixture, prepare  # noqa: F401  (fixture)
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.browser


def test_find_preview_and_download_an_open_dataset(
    live_server: LiveServer,
    page: Page,
    screenshot: Callable[[Page, str], Path],
    tmp_path: Path,
    generated: dict[str, str],
) -> None:
    settings, _, _ = prepare(tmp_path, f"sqlite:///{tmp_path / 'platform.db'}", generated)
    with live_server(settings) as base:
        page.goto(base + "/open-data")
        expect(page.locator("#open-datasets li")).to_have_count(4)
        page.get_by_role("link", name="Dân số theo tỉnh, giới tính và nhóm tuổi").click()
        expect(page.locator("h1")).to_have_text("Dân số theo tỉnh, giới tính và nhóm tuổi")
        header = page.locator("#preview thead th")
        expect(header.first).to_have_text("province_code")
        expect(page.locator("#preview tbody tr")).to_have_count(20)
        expect(page.locator("svg#chart rect").first).to_be_visible()
        assert page.locator("svg#chart rect").count() == 14  # 7 age bands x 2 sexes, national totals
        screenshot(page, "open-dataset")

        with page.expect_download() as info:
            page.get_by_role("link", name="Tải về CSV").click()
        download = info.value
        assert download.suggested_filename == "open-population-by-province-sex-age.csv"
        content = Path(download.path()).read_bytes()
        assert content.startswith(b"\xef\xbb\xbfprovince_code,sex,age_band,population,suppressed\r\n")

        page.goto(base + "/open-data/population-citizen")
        expect(page.locator("body")).to_contain_text("404")
