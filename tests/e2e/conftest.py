"""Real-browser fixtures: Debian's Chromium driven by Playwright against a live dashboard.

The dashboard runs in pytest-django's ``live_server`` (a thread on a free 127.0.0.1 port) on the
frozen embedded simulator, so a test can move the simulator's clock or inject faults and watch
the page react. Playwright never downloads a browser here: it launches ``/usr/bin/chromium``
(each launch gets a fresh, empty user-data dir of Playwright's making).
"""

import os
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.test import Client

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    # Tests press play from script; a person's click is a gesture anyway.
    "--autoplay-policy=no-user-gesture-required",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "tests" / "e2e" / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "correct horse battery staple"
ZONE = "Europe/Berlin"
DESKTOP = {"width": 1280, "height": 900}


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="package")
def browser():
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    # Playwright's sync API keeps an event loop running in this thread; Django's ORM (the
    # tests' users and sessions) would refuse to run beside it. Only while the browser lives.
    with pytest.MonkeyPatch.context() as patch, sync_api.sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def e2e_user(transactional_db):
    return get_user_model().objects.create_user(
        username="supervisor", password=PASSWORD, is_staff=True
    )


class ConsoleWatch:
    """Every console error and uncaught exception a page produced."""

    def __init__(self):
        self.errors: list[str] = []
        self.expected: list[str] = []

    def attach(self, page):
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def expect(self, fragment: str):
        """A console message the test provokes on purpose (say, a 404 it asks for)."""
        self.expected.append(fragment)

    def _console(self, message):
        if message.type == "error":
            text = f"{message.text} ({message.location.get('url', '')})"
            if not any(fragment in text for fragment in self.expected):
                self.errors.append(text)


class InFlight:
    """Requests the live server is still answering. Closing the browser does not stop them: a
    request that was on its way (an htmx swap, the totals) goes on reading the database while
    the test's teardown flushes it, and SQLite's shared in-memory database then refuses the
    flush ("database table is locked"), failing the next test too."""

    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    def started(self, **_):
        with self.lock:
            self.count += 1

    def finished(self, **_):
        with self.lock:
            self.count = max(0, self.count - 1)

    def wait_until_idle(self, seconds: float = 10.0) -> None:
        give_up = time.monotonic() + seconds
        while self.count and time.monotonic() < give_up:
            time.sleep(0.02)


IN_FLIGHT = InFlight()
request_started.connect(IN_FLIGHT.started, dispatch_uid="e2e.in_flight.started")
request_finished.connect(IN_FLIGHT.finished, dispatch_uid="e2e.in_flight.finished")


@pytest.fixture
def console():
    return ConsoleWatch()


@pytest.fixture
def browser_context(browser, transactional_db, live_server, frozen_simulator, console):
    """A fresh context (cookies, storage) per test, in Berlin, its `tz` cookie already set;
    closed, and the live server's last requests answered, before the database is flushed."""
    context = browser.new_context(
        base_url=live_server.url, viewport=DESKTOP, timezone_id=ZONE, locale="en-GB"
    )
    context.add_cookies([{"name": "tz", "value": ZONE, "url": live_server.url}])
    context.set_default_timeout(10_000)
    yield context
    context.close()
    IN_FLIGHT.wait_until_idle()  # before the database is flushed under them
    assert console.errors == [], "the browser console reported errors"


@pytest.fixture
def page(browser_context, console):
    """A signed-out page."""
    page = browser_context.new_page()
    console.attach(page)
    return page


@pytest.fixture
def signed_in(browser_context, page, e2e_user, live_server):
    """A page whose context carries a staff session (sign-in itself is tested through the form)."""
    client = Client()
    client.force_login(e2e_user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    browser_context.add_cookies(
        [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
    )
    return page


@pytest.fixture(scope="session")
def screenshots():
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
