"""A real Chromium (Debian's) driven by Playwright against pytest-django's live server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
LAPTOP = {"width": 1366, "height": 900}
TABLET = {"width": 820, "height": 1180}

# Playwright's sync API runs an event loop in the test's thread; the test itself only reads the
# database between browser steps, never concurrently with it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (never `playwright install`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def insecure_cookies(settings):  # type: ignore[no-untyped-def]
    """The live server speaks plain http: cookies flagged Secure would never come back."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


class Session:
    """One person's browser tab, keeping every console error (a CSP refusal shows up there)."""

    def __init__(self, browser, base_url: str, name: str, viewport: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
        self.context = browser.new_context(viewport=viewport, accept_downloads=True, base_url=base_url)
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.name = name
        self.errors: list[str] = []
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def shot(self, label: str, *, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.name}-{label}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def login(self, username: str) -> None:
        self.page.goto("/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url("**/")


@pytest.fixture
def open_session(browser, live_server, insecure_cookies):  # type: ignore[no-untyped-def]
    sessions: list[Session] = []

    def open_(name: str, viewport: dict[str, int] = LAPTOP) -> Session:
        session = Session(browser, live_server.url, name, viewport)
        sessions.append(session)
        return session

    yield open_
    for session in sessions:
        session.context.close()
