"""The catalog pages in real headless Chromium: search with and without diacritics, facets, a dataset, language."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Request, expect
from sqlalchemy.orm import Session

from catalog import service
from catalog.schemas import DatasetIn, FieldIn, ResourceIn
from catalog.sync import sync_catalog
from connectors.registry import Sources
from ndx import server as ndx_server
from ndx.db import make_engine
from policies import service as policy_service
from tests.e2e.conftest import serve
from tests.helpers import make_settings
from tests.ndx.test_app import write_empty_sources

pytestmark = pytest.mark.browser
Shot = Callable[[Page, str], Path]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A node with the six source datasets and one open dataset with files, served for the module's tests."""
    folder = tmp_path_factory.mktemp("ndx-e2e")
    urls = write_empty_sources(folder / "sources")
    settings = make_settings(folder, **urls)
    ndx_server.migrate(settings)
    engine = make_engine(settings.platform_url)
    sources = Sources(settings.source_urls())
    with Session(engine) as session:
        policy_service.seed_organizations(session=session, by="test")
        assert sync_catalog(session=session, sources=sources).ok
        service.set_quality_score(session=session, name="land-parcel", score=92.5)
        service.register_dataset(
            session=session,
            data=DatasetIn(
                name="dan-so-theo-tinh",
                owner_org="bca",
                title_vi="Dân số theo tỉnh, thành phố năm 2025",
                title_en="Population by province, 2025",
                notes_vi="Số dân thường trú theo tỉnh, tổng hợp từ Cơ sở dữ liệu quốc gia về dân cư.",
                notes_en="Permanent residents by province, aggregated from the National Population Database.",
                classification="open",
                license_id="cc-by-4.0",
                tags=["dân cư", "thống kê", "population"],
                fields=[
                    FieldIn(name="province_code", type="CHAR(2)", description_vi="Mã tỉnh", description_en="Province"),
                    FieldIn(name="residents", type="INTEGER", description_vi="Số dân", description_en="Residents"),
                ],
                resources=[
                    ResourceIn(name="dan-so-2025.csv", url="/datasets/dan-so-theo-tinh", format="CSV", size=2048),
                    ResourceIn(name="dan-so-2025.json", url="/datasets/dan-so-theo-tinh", format="JSON", size=4096),
                ],
            ),
        )
    sources.dispose()
    engine.dispose()
    with serve(settings, migrate=False) as url:
        yield url


def only_local(page: Page, base_url: str) -> list[str]:
    """Record every request the page makes that does not go to the node itself (there must be none)."""
    outside: list[str] = []

    def check(request: Request) -> None:
        if not request.url.startswith(base_url) and not request.url.startswith("data:"):
            outside.append(request.url)

    page.on("request", check)
    return outside


def test_search_with_and_without_diacritics(page: Page, base_url: str, screenshot: Shot) -> None:
    outside = only_local(page, base_url)
    page.goto(base_url + "/")
    expect(page.locator("h1")).to_have_text("Tìm dữ liệu của các cơ sở dữ liệu quốc gia")
    expect(page.locator(".stat strong").first).to_have_text("7")
    screenshot(page, "home-vi")

    page.get_by_role("searchbox").fill("dan cu")
    page.get_by_role("button", name="Tìm kiếm").click()
    expect(page).to_have_url(re.compile(r"/datasets\?q=dan\+cu"))
    results = page.locator(".results h3")
    expect(results).to_have_count(2)
    expect(page.locator(".results")).to_contain_text("Công dân (Cơ sở dữ liệu quốc gia về dân cư)")
    expect(page.locator(".results")).to_contain_text("Dân số theo tỉnh")
    expect(page.locator("#count")).to_contain_text("Tìm thấy 2 bộ dữ liệu")
    screenshot(page, "search-dan-cu")

    page.get_by_role("searchbox").fill("Đất đai")
    page.get_by_role("button", name="Tìm kiếm").click()
    expect(results).to_have_count(2)
    expect(page.locator(".results")).to_contain_text("Thửa đất")
    expect(page.locator(".results")).to_contain_text("Quyền sử dụng đất")

    page.get_by_role("searchbox").fill("khong co du lieu nay")
    page.get_by_role("button", name="Tìm kiếm").click()
    expect(page.locator("#count")).to_have_text("Không có bộ dữ liệu nào phù hợp.")
    assert outside == []


def test_filter_by_a_facet_and_remove_it(page: Page, base_url: str, screenshot: Shot) -> None:
    page.goto(base_url + "/datasets")
    expect(page.locator("#count")).to_contain_text("7")
    classification = page.locator("section.facet", has=page.locator("h3", has_text="Phân loại"))
    restricted = classification.get_by_role("link", name=re.compile("Hạn chế"))
    expect(restricted).to_contain_text("4")
    restricted.click()
    expect(page.locator("#count")).to_contain_text("Tìm thấy 4 bộ dữ liệu")
    expect(page.locator(".results li")).to_have_count(4)
    expect(page.locator(".results .badge.b-restricted")).to_have_count(4)
    expect(classification.locator("a[aria-current=true]")).to_contain_text("Hạn chế")
    organization = page.locator("section.facet", has=page.locator("h3", has_text="Cơ quan"))
    organization.get_by_role("link", name=re.compile("Bảo hiểm xã hội")).click()
    expect(page.locator("#count")).to_contain_text("Tìm thấy 2 bộ dữ liệu")
    screenshot(page, "facets")

    page.locator(".chips a", has_text="Hạn chế").click()  # remove one filter, keep the other
    expect(page.locator("#count")).to_contain_text("Tìm thấy 2 bộ dữ liệu")
    expect(page.locator(".chips a")).to_have_count(1)


def test_open_a_dataset_and_read_its_fields(page: Page, base_url: str, screenshot: Shot) -> None:
    page.goto(base_url + "/datasets?q=cong+dan")
    page.locator(".results h3 a", has_text="Công dân").click()
    expect(page).to_have_url(base_url + "/datasets/population-citizen")
    expect(page.locator("h1")).to_have_text("Công dân (Cơ sở dữ liệu quốc gia về dân cư)")
    rows = page.locator("#field-table tbody tr")
    expect(rows).to_have_count(12)
    ethnicity = page.locator("#field-table tr", has=page.locator("code", has_text="ethnicity"))
    expect(ethnicity.locator(".badge")).to_contain_text("Cá nhân nhạy cảm")
    expect(ethnicity.locator(".badge")).to_have_class(re.compile("b-sensitive-personal"))
    expect(page.locator("#field-table tr[data-sensitivity=public]")).to_have_count(2)
    request = page.get_by_role("link", name="Đề nghị truy cập")
    expect(request).to_have_attribute("href", "/datasets/population-citizen/request")
    expect(page.locator("#quality")).to_contain_text("Chưa đánh giá")
    expect(page.get_by_text("Xác thực thông tin công dân khi giải quyết thủ tục hành chính")).to_be_visible()
    screenshot(page, "dataset-restricted")

    page.goto(base_url + "/datasets/land-parcel")
    expect(page.locator("#quality .score")).to_have_text("92,5")

    page.goto(base_url + "/datasets/dan-so-theo-tinh")
    expect(page.get_by_role("link", name="Đề nghị truy cập")).to_have_count(0)
    expect(page.locator(".results h3")).to_have_count(2)
    expect(page.locator(".results")).to_contain_text("CSV")
    screenshot(page, "dataset-open")

    page.goto(base_url + "/datasets/khong-ton-tai")
    expect(page.locator("h1")).to_contain_text("Không tìm thấy trang")


def test_switch_language_and_keep_it(page: Page, base_url: str, screenshot: Shot) -> None:
    page.goto(base_url + "/datasets/land-parcel")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    page.get_by_role("link", name="EN", exact=True).click()
    expect(page).to_have_url(base_url + "/datasets/land-parcel?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Land parcels (National Land Database)")
    expect(page.locator("#field-table thead")).to_contain_text("Sensitivity")
    expect(page.locator("#quality .score")).to_have_text("92.5")
    screenshot(page, "dataset-en")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Datasets").click()  # the cookie keeps English
    expect(page.locator("h1")).to_have_text("Datasets")
    expect(page.locator("#count")).to_contain_text("7 datasets found")
    page.get_by_role("searchbox").fill("dat dai")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".results h3").first).to_contain_text("Land")
    screenshot(page, "search-en")

    page.get_by_role("link", name="VI", exact=True).click()
    expect(page.locator("h1")).to_have_text("Bộ dữ liệu")


def test_pages_work_without_javascript(browser: Browser, base_url: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(base_url + "/")
    page.get_by_role("searchbox").fill("doanh nghiep")
    page.get_by_role("button", name="Tìm kiếm").click()
    first = page.locator(".results h3 a").first
    expect(first).to_contain_text("Doanh nghiệp")  # the enterprise register ranks first
    first.click()
    expect(page.locator("h1")).to_contain_text("Doanh nghiệp")
    expect(page.locator("#field-table tbody tr")).to_have_count(11)
    context.close()
