"""Headless Chromium (the system's /usr/bin/chromium) driven by Playwright against `live_server`.

Test modules here mark themselves `browser`. Pages record console errors and uncaught exceptions so
tests can assert a clean console; screenshots go to var/screenshots/ (gitignored).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, sync_playwright

# Playwright's sync API runs an event loop in this thread; Django would then refuse ORM calls
# made by the test itself (data set-up) as "async unsafe". The test thread is not async code.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


@dataclass
class BrowserPage:
    """A Playwright page plus what its console said."""

    page: Page
    base_url: str
    console_errors: list[str] = field(default_factory=list)

    def goto(self, path: str) -> int:
        response = self.page.goto(self.base_url + path)
        self.page.wait_for_load_state("networkidle")
        return response.status if response else 0

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def sign_in(self, username: str, password: str, *, from_current_page: bool = False) -> None:
        """Sign in through the allauth form (on the current page when redirected to it)."""
        if not from_current_page:
            self.goto("/accounts/login/")
        self.page.fill("#id_login", username)
        self.page.fill("#id_password", password)
        self.page.click("form[data-testid=login-form] button[type=submit]")
        self.page.wait_for_load_state("networkidle")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Browser tests need Debian's Chromium at {CHROMIUM}: apt-get install chromium "
            "(.ci/run installs it)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def _open_page(browser: Browser, base_url: str, width: int, height: int) -> BrowserPage:
    context = browser.new_context(viewport={"width": width, "height": height})
    wrapped = BrowserPage(page=context.new_page(), base_url=base_url)
    wrapped.page.on(
        "console",
        lambda message: (
            wrapped.console_errors.append(f"{wrapped.page.url}: {message.text}")
            if message.type == "error"
            else None
        ),
    )
    wrapped.page.on(
        "pageerror", lambda error: wrapped.console_errors.append(f"{wrapped.page.url}: {error}")
    )
    return wrapped


@pytest.fixture
def web(browser: Browser, live_server) -> Iterator[BrowserPage]:
    """A desktop-sized page on the live server."""
    wrapped = _open_page(browser, live_server.url, 1440, 900)
    yield wrapped
    wrapped.page.context.close()


@pytest.fixture
def phone(browser: Browser, live_server) -> Iterator[BrowserPage]:
    """A phone-sized page on the live server."""
    wrapped = _open_page(browser, live_server.url, 390, 844)
    yield wrapped
    wrapped.page.context.close()
