"""Browser-test fixtures, reusable by every team: a live NDX server for given settings, and headless Chromium.

    def test_something(live_server, page):
        with live_server(settings) as base_url:
            page.goto(base_url + "/")

Chromium is Debian's (/usr/bin/chromium) driven by Playwright for Python; nothing is downloaded. HOME points at
a temporary folder for the session, since Chromium writes under $HOME/.config and $HOME/.cache. Screenshots go
to ``test-artifacts/`` (gitignored) through the ``screenshot`` fixture.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from ndx import server as ndx_server
from ndx.app import create_app
from ndx.settings import Settings

CHROMIUM = Path(os.environ.get("NDX_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
LiveServer = Callable[[Settings], AbstractContextManager[str]]


@contextmanager
def serve(settings: Settings, *, migrate: bool = True) -> Iterator[str]:
    """Serve ``create_app(settings)`` with uvicorn on a free loopback port in a thread; yield its base URL."""
    if migrate:
        ndx_server.migrate(settings)
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="ndx-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture
def live_server() -> LiveServer:
    """``with live_server(settings) as base_url:`` — a running NDX for these settings (migrated first)."""
    return serve


# Module scope: Playwright's sync API keeps an event loop running in this thread while it is open, which
# would break asyncio.run() in tests that happen to run later on the same worker.
@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Headless Debian Chromium for the session (skipped when it is not installed)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")

    home = tmp_path_factory.mktemp("chromium-home")
    old_home = os.environ.get("HOME")
    os.environ["HOME"] = str(home)
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if old_home is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = old_home


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context and page (own cookies), 1280x900, closed after the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """``screenshot(page, "name")`` saves a full-page PNG under test-artifacts/e2e/ and returns its path."""

    def take(tab: Page, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{request.node.name.split('[')[0]}-{name}.png"
        tab.screenshot(path=str(path), full_page=True)
        return path

    return take
