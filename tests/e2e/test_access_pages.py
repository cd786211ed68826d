"""The access workflow in real headless Chromium, end to end against a served NDX: a developer of ubnd-hcm asks
for citizen fields, a steward of bca approves fewer fields, the developer's token then reads exactly those
fields through the API, the steward revokes the grant on its page, and the next call is refused."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, expect

from ndx import server as ndx_server
from policies.audit_bundle import verify_bundle
from tests.e2e.conftest import serve
from tests.helpers import make_settings
from tests.policies.world import ACCOUNTS, PASSWORD, seed_accounts, write_sources

pytestmark = pytest.mark.browser
Shot = Callable[[Page, str], Path]
DATASET = "population-citizen"
ASKED = ["citizen_id", "full_name", "date_of_birth", "sex"]
APPROVED = ["citizen_id", "full_name"]


@dataclass
class Node:
    url: str


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """Sources with a hundred citizens, the agencies and their accounts (with passwords), and web sign-in on
    (a secret key), served on a loopback port. The catalog is not needed: the access pages read the policy rules."""
    folder = tmp_path_factory.mktemp("ndx-access-e2e")
    urls, _ = write_sources(folder / "sources", people=120)
    settings = make_settings(folder, secret_key="e2e-secret-" + "k" * 32, **urls)
    ndx_server.migrate(settings)
    seed_accounts(settings.platform_url, passwords=True)
    with serve(settings, migrate=False) as url:
        yield Node(url)


def only_local(page: Page, base_url: str) -> list[str]:
    outside: list[str] = []

    def check(request: Request) -> None:
        if not request.url.startswith(base_url) and not request.url.startswith("data:"):
            outside.append(request.url)

    page.on("request", check)
    return outside


def sign_in(page: Page, who: str) -> None:
    """Fill the login form the page was redirected to."""
    expect(page).to_have_url(re.compile(r"/login\?"))
    page.fill("#email", ACCOUNTS[who][0])
    page.fill("#password", PASSWORD)
    page.click("#sign-in")


def records(node: Node, token: str, fields: str | None = None) -> httpx.Response:
    params = {"limit": "5", **({"fields": fields} if fields else {})}
    headers = {"Authorization": f"Bearer {token}", "X-NDX-Purpose": "social-assistance"}
    return httpx.get(f"{node.url}/api/v1/datasets/{DATASET}/records", params=params, headers=headers, timeout=20)


@pytest.fixture
def steward_page(browser: Browser) -> Iterator[Page]:
    """A second browser with its own cookies, for the steward."""
    context: BrowserContext = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    yield context.new_page()
    context.close()


def test_request_approve_narrowed_query_revoke(node: Node, page: Page, steward_page: Page, screenshot: Shot) -> None:
    base = node.url
    outside = only_local(page, base) + only_local(steward_page, base)

    # the developer follows the dataset page's "request access" link; it needs a sign-in, which brings them back
    page.goto(f"{base}/datasets/{DATASET}/request")
    expect(page.locator("h1")).to_have_text("Đăng nhập")
    screenshot(page, "1-login")
    sign_in(page, "hcm_dev")
    expect(page).to_have_url(f"{base}/datasets/{DATASET}/request")
    # the site header now shows who is signed in, with their pages (no steward inbox for a developer)
    expect(page.locator("header.site #account summary")).to_contain_text(ACCOUNTS["hcm_dev"][0])
    expect(page.locator("header.site #account a[href='/me']")).to_have_count(1)
    expect(page.locator("header.site #account a[href='/steward']")).to_have_count(0)

    # a form without any field comes back with what to fix and what was typed, and nothing is written
    page.fill("#legal_basis", "Nghị định 13/2023/NĐ-CP, Điều 17")
    page.select_option("#purpose", "social-assistance")
    page.fill("#case_ref", "HS-2026-0042")
    page.click("#send-request")
    expect(page.locator("#form-errors")).to_contain_text("chọn ít nhất một trường")
    expect(page.locator("#legal_basis")).to_have_value("Nghị định 13/2023/NĐ-CP, Điều 17")
    expect(page.locator("#purpose")).to_have_value("social-assistance")
    screenshot(page, "2-request-errors")

    for field in ASKED:
        page.check(f"#f-{field}")
    page.fill("#days", "60")
    page.locator("#case_ref").focus()  # leave the number box first (headless Chromium drops a click made from it)
    screenshot(page, "3-request-filled")
    page.click("#send-request")

    expect(page.locator("#flash")).to_be_visible()
    row = page.locator("#request-table tbody tr").first
    expect(row).to_have_attribute("data-status", "pending")
    screenshot(page, "4-me-pending")

    # a token, shown once on the answer page
    page.fill("#token-label", "ho-so-tro-cap")
    page.click("#create-token")
    token = page.locator("#new-token").inner_text().strip()
    assert token.startswith("ndx_")
    screenshot(page, "5-me-token")
    assert records(node, token).status_code == 403  # no grant yet

    # the steward of bca approves, leaving out two of the four fields
    steward_page.goto(f"{base}/steward")
    sign_in(steward_page, "bca_steward")
    expect(steward_page).to_have_url(f"{base}/steward")
    expect(steward_page.locator("header.site #account a[href='/steward']")).to_have_count(1)
    card = steward_page.locator("section.request-card").first
    expect(card).to_contain_text("ubnd-hcm")
    screenshot(steward_page, "6-steward-inbox")
    for field in set(ASKED) - set(APPROVED):
        card.locator(f"input[name=fields][value={field}]").uncheck()
    card.locator("input[name=days]").fill("30")
    card.locator("input[name=note]").fill("Chỉ cấp họ tên và số định danh")
    card.locator("button", has_text="Phê duyệt").click()
    expect(steward_page.locator("#flash")).to_be_visible()
    expect(steward_page.locator("#inbox-empty")).to_be_visible()
    screenshot(steward_page, "7-steward-approved")

    # the developer's token now reads exactly the approved fields
    res = records(node, token)
    assert res.status_code == 200, res.text
    items = res.json()["items"]
    assert items and all(set(item) == set(APPROVED) for item in items)
    denied = records(node, token, fields="full_name,sex")
    assert denied.status_code == 403 and denied.json()["error"]["details"] == {"denied_fields": ["sex"]}

    page.goto(f"{base}/me")
    expect(page.locator("#grant-table tbody tr").first).to_have_attribute("data-status", "active")
    screenshot(page, "8-me-granted")

    # the steward revokes it on the grant page
    steward_page.locator("#grant-table a").first.click()
    expect(steward_page.locator("#grant-fields tbody tr")).to_have_count(len(APPROVED))
    expect(steward_page.locator("#usage-calls")).not_to_have_text("0")
    screenshot(steward_page, "9-grant-active")
    steward_page.click("#revoke-button")  # without a reason: refused, asked again
    expect(steward_page.locator("#grant-status")).to_contain_text("Đang hiệu lực")
    steward_page.fill("#reason-revoke", "Hồ sơ đã giải quyết xong")
    steward_page.click("#revoke-button")
    expect(steward_page.locator("#flash")).to_be_visible()
    expect(steward_page.locator("#grant-status")).to_contain_text("Đã thu hồi")
    expect(steward_page.locator("#grant-history tbody tr")).to_have_count(2)
    screenshot(steward_page, "10-grant-revoked")

    refused = records(node, token)
    assert refused.status_code == 403 and "no longer active" in refused.json()["error"]["message"]

    # the audit view shows the developer's calls, allowed and refused, to the owning steward
    steward_page.goto(f"{base}/audit?kind=query&lang=en")
    expect(steward_page.locator("h1")).to_have_text("Audit log")
    statuses = steward_page.locator("#audit-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.status)")
    assert "200" in statuses and "403" in statuses
    screenshot(steward_page, "11-audit-en")
    with steward_page.expect_download() as download:  # the evidence of the newest call, checked offline
        steward_page.locator("#audit-table a.evidence").first.click()
    problem, manifest = verify_bundle(Path(download.value.path()))
    assert problem is None and manifest["records"], manifest

    page.goto(f"{base}/logout")
    page.click("main button[type=submit]")
    expect(page.locator(".alert.ok")).to_be_visible()
    page.goto(f"{base}/me")
    expect(page).to_have_url(f"{base}/login?next=/me")
    expect(page.locator("header.site #account")).to_have_count(0)

    # signing out from the header's menu (a POST with the session's CSRF token) works on any page
    page.fill("#email", ACCOUNTS["hcm_dev"][0])
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.goto(f"{base}/datasets")
    page.click("header.site #account summary")
    page.click("#sign-out")
    expect(page).to_have_url(f"{base}/login?signed_out=1")
    expect(page.locator("header.site #account")).to_have_count(0)
    assert outside == []


def test_forms_without_a_session_or_token_are_refused(node: Node) -> None:
    """A cross-site POST (no CSRF token) changes nothing, and anonymous pages send to the login page."""
    with httpx.Client(base_url=node.url, follow_redirects=False, timeout=20) as client:
        for path in ("/me", "/steward", "/audit", f"/datasets/{DATASET}/request", "/grants/1"):
            res = client.get(path, headers={"Accept": "text/html"})
            assert res.status_code == 303 and res.headers["location"] == f"/login?next={path}", path
        login = client.post("/login", data={"email": ACCOUNTS["hcm_dev"][0], "password": PASSWORD, "csrf": "x"})
        assert login.status_code == 403 and "ndx_session" not in login.cookies
        page = client.get("/login")
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        ok = client.post("/login", data={"email": ACCOUNTS["hcm_dev"][0], "password": PASSWORD, "csrf": csrf})
        assert ok.status_code == 303 and ok.headers["location"] == "/me"
        forged = client.post("/me/tokens", data={"label": "forged"})
        assert forged.status_code == 403
        assert "forged" not in client.get("/me").text


def test_failed_sign_ins_are_throttled_per_account(node: Node) -> None:
    """After ten wrong passwords an account's form refuses to check even the right one (429 with
    Retry-After); other accounts from the same address still sign in."""

    def attempt(client: httpx.Client, email: str, password: str) -> httpx.Response:
        page = client.get("/login")
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        return client.post("/login", data={"email": email, "password": password, "csrf": csrf})

    target = ACCOUNTS["thue_dev"][0]
    with httpx.Client(base_url=node.url, follow_redirects=False, timeout=20) as client:
        for _ in range(10):
            assert attempt(client, target, "not-the-password").status_code == 401
        refused = attempt(client, target, PASSWORD)
        assert refused.status_code == 429
        assert 0 < int(refused.headers["retry-after"]) <= 900
        assert "Đăng nhập sai quá nhiều lần" in refused.text
        assert "ndx_session" not in refused.cookies
    with httpx.Client(base_url=node.url, follow_redirects=False, timeout=20) as other:
        ok = attempt(other, ACCOUNTS["thue_steward"][0], PASSWORD)
        assert ok.status_code == 303 and "ndx_session" in ok.cookies
