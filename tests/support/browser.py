"""A real browser for page tests: Debian's chromium driven by Playwright, skipped (saying why) without it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent.parent / "artifacts"  # screenshots, ignored by git
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


@contextmanager
def launch_chromium() -> Iterator[Any]:
    """Yield a launched headless chromium; skip (saying why) when it or playwright is missing."""
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"no chromium at {CHROMIUM} (.ci/run installs Debian's chromium; apt-get install chromium)"
        )
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Share one launched chromium across a test module."""
    with launch_chromium() as browser:
        yield browser


def open_page(browser: Any, url: str, width: int) -> tuple[Any, list[str]]:
    """Open `url` at `width` px; return the page and the console errors, page errors and dialogs seen."""
    page = browser.new_page(viewport={"width": width, "height": 800})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: errors.append(f"dialog: {d.message}"))  # an injected alert() would show here
    page.goto(url)
    return page, errors


def no_overflow(page: Any) -> bool:
    """Return True when the page is no wider than the window (no horizontal scrolling)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))
