"""Debian's chromium through Playwright, shared by every browser test.

Playwright cannot download its own browser here, so the tests use the system
`chromium` (`make browser` installs it). Without it they fail under CI=true
and skip, loudly, elsewhere.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.missing import not_here

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(os.environ.get("OPENDIP_SCREENSHOTS", "/tmp/opendip-screenshots"))
"""Where browser tests leave screenshots of the main pages for a human to look at (not committed)."""


def chromium_path() -> str:
    path = shutil.which("chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        path = None
    if path is None:
        message = "Debian chromium or Playwright is missing (run `make browser`): the portal browser tests did NOT run"
        not_here(message)
    return path


@contextmanager
def launched_chromium() -> Iterator[Any]:
    """Debian's chromium, headless, closed on the way out."""
    path = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page: Any, name: str, *, full_page: bool = False) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def sign_in(page: Any, username: str, password: str, start: str = "/portal") -> None:
    """Open `start`, get sent to /login, sign in, and land back on `start`."""
    page.goto(start)
    page.wait_for_url(re.compile(r"/login\?next="))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(start.split("?")[0]) + r"(\?|$)"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One chromium per test module (registered as a plugin in tests/conftest.py)."""
    with launched_chromium() as launched:
        yield launched
