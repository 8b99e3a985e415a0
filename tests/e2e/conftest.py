"""Browser tests: Debian's Chromium (driven by pytest-playwright) against pytest-django's live server.

The live server runs the real app in a thread with static files served (django.contrib.staticfiles is
installed), on the test database; tests make their data with the services and factories, then act only
through the pages. tests/conftest.py marks everything here `e2e` and skips it when Chromium is missing.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.support import make_owner

# Playwright's sync API runs an event loop in the test's thread, and once started (a session fixture) that
# loop counts as running for every later test of the session, browser or not. Django's ORM refuses to run
# under a running loop unless told that this is deliberate (no test code awaits anything), so this is set
# for the whole process as soon as the browser tests are collected; a per-test setting would break the
# tests that run after them. Code that spawns subprocesses with os.environ inherits it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENS_DIR = Path(__file__).resolve().parents[2] / "var" / "e2e-screens"
# Every page here answers from a local server: a few seconds is already a failure.
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": browser_type_launch_args.get("headless", True),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A merchant in China: Chinese browser, Shanghai clock (LocaleMiddleware reads Accept-Language).
    return {
        **browser_context_args,
        "locale": "zh-CN",
        "timezone_id": "Asia/Shanghai",
        "viewport": {"width": 1440, "height": 1000},
    }


@pytest.fixture
def page(page: Page) -> Page:
    page.set_default_timeout(TIMEOUT_MS)
    page.set_default_navigation_timeout(TIMEOUT_MS)
    return page


@pytest.fixture
def new_page(new_context):
    """A page in a fresh browser context (its own cookies): a second person at another computer."""

    def make() -> Page:
        fresh = new_context().new_page()
        fresh.set_default_timeout(TIMEOUT_MS)
        fresh.set_default_navigation_timeout(TIMEOUT_MS)
        return fresh

    return make


@pytest.fixture
def screenshot(request):
    """screenshot(page, "step") saves var/e2e-screens/<test>--<nn>-<step>.png, a full-page capture."""
    SCREENS_DIR.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_]+", "_", request.node.name)
    for stale in SCREENS_DIR.glob(f"{test}--*.png"):
        stale.unlink(missing_ok=True)  # a shorter re-run must not leave the last run's later steps around
    counter = iter(range(1, 100))

    def take(page: Page, step: str) -> Path:
        path = SCREENS_DIR / f"{test}--{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def shop1(live_server):
    return make_owner("shop1", name="一号店", code="shop1")


@pytest.fixture
def shop2(live_server):
    return make_owner("shop2", name="二号店", code="shop2")
