"""The steward's quality review in real headless Chromium: a steward of bca (which owns population-citizen)
opens /quality, opens the duplicate-citizen finding that says "possibly twins" (in Vietnamese: "có thể là sinh
đôi"), signs in from it, dismisses it with a note; a new quality run (the service, as ``ndx quality run``
does) finds the same pair again and keeps it dismissed, and the pages say so."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from connectors.registry import Sources
from ndx import server as ndx_server
from ndx.db import make_engine
from ndx.settings import Settings
from quality import service
from quality.models import QualityFinding
from quality.runner import run_checks
from tests.e2e.conftest import serve
from tests.helpers import make_settings
from tests.policies.world import ACCOUNTS, PASSWORD, seed_accounts
from tests.quality import handmade as hm

pytestmark = pytest.mark.browser
Shot = Callable[[Page, str], Path]
NAMES = ("population", "insurance", "land", "enterprise")


@dataclass
class Node:
    url: str
    settings: Settings


def quality_run(settings: Settings) -> tuple[int, int]:
    """One quality run over the configured sources, stored in the platform database: (run id, recurring)."""
    sources = Sources(settings.source_urls(), timeout_s=600)
    engine = make_engine(settings.platform_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            run = service.start_run(session=session, checks=[], sources={})
            result = run_checks(sources)
            stored = service.store_run(session=session, run=run, findings=result.findings, row_counts=result.row_counts)
            return run.id, stored.recurring
    finally:
        sources.dispose()
        engine.dispose()


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """The hand-made sources (one defect of each kind), the agencies' accounts with passwords, web sign-in on,
    and a first quality run stored; served on a loopback port."""
    folder = tmp_path_factory.mktemp("ndx-quality-e2e")
    (folder / "sources").mkdir()
    urls = {f"source_{n}": f"sqlite:///{folder / 'sources' / (n + '.db')}" for n in NAMES}
    hm.write_sources({n: urls[f"source_{n}"] for n in NAMES})
    settings = make_settings(folder, secret_key="e2e-secret-" + "q" * 32, **urls)
    ndx_server.migrate(settings)
    seed_accounts(settings.platform_url, passwords=True)
    quality_run(settings)
    with serve(settings, migrate=False) as url:
        yield Node(url, settings)


def finding_status(settings: Settings, finding_id: str) -> tuple[str, str | None, int]:
    engine = make_engine(settings.platform_url)
    try:
        with Session(engine) as session:
            found = session.get(QualityFinding, finding_id)
            assert found is not None
            return found.status, found.review_note, found.last_run_id
    finally:
        engine.dispose()


def test_steward_dismisses_a_finding_and_a_rerun_keeps_it(node: Node, page: Page, screenshot: Shot) -> None:
    base = node.url
    page.goto(f"{base}/quality")
    expect(page.locator("h1")).to_contain_text("Chất lượng dữ liệu")
    expect(page.locator("#findings tbody tr").first).to_be_visible()
    screenshot(page, "1-home")

    # filter to the duplicate citizens: Nguyễn Văn Hùng, Lý Thị Thu Hà, and the twins Lê Văn Hùng and Hưng
    page.select_option("#filters select[name=check]", "duplicate_citizen")
    page.click("#filters button[type=submit]")
    expect(page.locator("#findings tbody tr")).to_have_count(3)
    twins = page.locator("#findings tbody tr", has_text=hm.TWIN_HUNG_2)
    expect(twins).to_contain_text(hm.TWIN_HUNG)
    expect(twins).to_contain_text("có thể là sinh đôi")  # the pages speak Vietnamese by default
    screenshot(page, "2-filtered")
    twins.locator("a").first.click()
    expect(page).to_have_url(re.compile(r"/quality/findings/[0-9a-f]{32}$"))
    finding_url = page.url
    finding_id = finding_url.rsplit("/", 1)[1]
    expect(page.locator("#status")).to_have_text("Chưa xử lý")  # open
    expect(page.locator("#status")).to_have_attribute("data-status", "open")
    expect(page.locator("table.records tr.differs").first).to_be_visible()
    screenshot(page, "3-finding-anonymous")

    # not signed in: the page offers a sign-in that comes back here
    page.click("#sign-in-to-review")
    expect(page).to_have_url(re.compile(r"/login\?"))
    page.fill("#email", ACCOUNTS["bca_steward"][0])
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    expect(page).to_have_url(finding_url)
    expect(page.locator("#review")).to_be_visible()
    page.fill("#review-note", "Anh em sinh đôi: đã xác minh tại công an phường")
    screenshot(page, "4-finding-steward")
    page.click("#review button[value=dismissed]")
    expect(page.locator("#status")).to_have_text("Đã bác bỏ")  # dismissed
    expect(page.locator("#status")).to_have_attribute("data-status", "dismissed")
    expect(page.locator("#review-by")).to_contain_text(ACCOUNTS["bca_steward"][0])
    expect(page.locator("#review-by")).to_contain_text("đã xác minh tại công an phường")
    screenshot(page, "5-dismissed")

    # a new run finds the same duplicate again and keeps the steward's decision
    first_status = finding_status(node.settings, finding_id)
    rerun, recurring = quality_run(node.settings)
    assert recurring >= 1
    status, note, last_run = finding_status(node.settings, finding_id)
    assert (status, note) == ("dismissed", "Anh em sinh đôi: đã xác minh tại công an phường")
    assert last_run == rerun > first_status[2]

    page.goto(finding_url)
    expect(page.locator("#status")).to_have_text("Đã bác bỏ")
    expect(page.locator("#seen-in")).to_contain_text(f"gần nhất ở lượt kiểm tra {rerun}")
    page.goto(f"{base}/quality?status=dismissed")
    rows = page.locator("#findings tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".status")).to_have_text("Đã bác bỏ")
    expect(page.locator("#run-summary")).to_contain_text(f"Lượt kiểm tra {rerun}")
    screenshot(page, "6-rerun-dismissed")
