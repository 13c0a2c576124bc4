"""A real browser (Debian's chromium, driven by Playwright) reads the day page and the archive site at
375 px and 1280 px: no console errors, no horizontal overflow, all 13 entries visible, search works.
Screenshots are kept in tests/artifacts/ (ignored by git)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from ribao.delivery.site import build_site
from ribao.runs.digests import written_digests
from tests.support.browser import ARTIFACTS, no_overflow, open_page
from tests.support.digests import papers, write_day

DAYS = [dt.date(2026, 2, 17), dt.date(2026, 2, 18), dt.date(2026, 2, 19)]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    digests = tmp_path_factory.mktemp("digests")
    for day in DAYS:
        write_day(digests, day, hostile=day == DAYS[-1], code_url="javascript:alert(1)")
    return build_site(
        written_digests(digests, home=None),
        tmp_path_factory.mktemp("www") / "site",
        site_url="https://r.github.io/ribao",
    ).out


@pytest.mark.parametrize("width", [375, 1280])
def test_day_page_reads_at_phone_and_desktop_width(chromium: Any, site: Path, width: int) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = open_page(chromium, (site / "2026-02-19.html").as_uri(), width)
    entries = page.locator("article.entry")
    assert entries.count() == 13 and all(entries.nth(i).is_visible() for i in range(13))
    assert no_overflow(page), "horizontal overflow"
    hrefs = page.eval_on_selector_all("a", "els => els.map(e => e.getAttribute('href'))")
    assert all(h.startswith(("http://", "https://", "index.html")) for h in hrefs)
    assert page.locator("script").count() == 0 and "<script>alert" in page.inner_text("article#p1 h3")
    page.screenshot(path=str(ARTIFACTS / f"day-{width}.png"))  # the first screen
    page.screenshot(path=str(ARTIFACTS / f"day-{width}-full.png"), full_page=True)
    assert errors == []
    page.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_site_lists_the_days_and_search_finds_a_paper(chromium: Any, site: Path, width: int) -> None:
    page, errors = open_page(chromium, (site / "index.html").as_uri(), width)
    assert page.locator("#days li").count() == 3 and no_overflow(page)
    word = papers()[5].title_display.split()[0:3]
    page.fill("#q", " ".join(word))
    hits = page.locator("#results li a")
    assert hits.count() >= 3  # the paper is in all three days
    assert " ".join(word).lower() in hits.first.inner_text().lower()
    page.screenshot(path=str(ARTIFACTS / f"site-search-{width}.png"))
    hits.first.click()
    page.wait_for_load_state()
    assert page.url.endswith(".html#p6") and page.locator("article.entry").count() == 13
    assert no_overflow(page) and errors == []
    page.close()
