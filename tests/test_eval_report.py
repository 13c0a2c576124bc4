"""The HTML report of `ribao eval compare` in a real browser: the table, regressions marked, and per
paper both versions side by side; no console errors, no page wider than the window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ribao.app.evals import compare_versions, run_outputs, write_report
from ribao.runs.db import RunLog
from tests.support.browser import no_overflow, open_page
from tests.support.eval_runs import experiment, fake_replay, featured, recorded_home, store_references


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The report of a run against a screener replay picking 13 papers nobody featured; and how many
    papers either version picked."""
    tmp = tmp_path_factory.mktemp("report")
    home, run_id = recorded_home(tmp)
    store_references(home)
    with RunLog.open(home) as log:
        outputs = run_outputs(home, log.get_run(run_id))
    rest = [pid for pid in outputs.candidates if pid not in featured()]
    fake_replay(home, run_id, "01M00000000000000000000BAD", rest[:13])
    experiment(home, "worse", {run_id: ["01M00000000000000000000BAD"]})
    result = compare_versions(home, run_id, "worse")
    picked = {p.arxiv_id for p in outputs.picks} | set(rest[:13])
    return write_report(result, tmp / "report.html"), len(picked)


@pytest.mark.parametrize("width", [375, 1280])
def test_the_report_reads_in_a_browser(report: tuple[Path, int], chromium: Any, width: int) -> None:
    # `report` first: it runs the graph (asyncio.run), which cannot start inside Playwright's loop.
    path, picked = report
    page, errors = open_page(chromium, path.as_uri(), width)
    rows = page.locator("#metrics tbody tr")
    assert rows.count() > 10 and page.locator("#metrics tr.regression").count() >= 1
    assert "1 regression(s): fields_complete" in page.inner_text("#verdict")  # new picks have no summaries
    papers = page.locator("table.papers tbody tr")
    assert papers.count() == picked > 13
    first = papers.nth(0).locator("td")
    assert "#1 · must_read" in first.nth(0).inner_text() and "background" in first.nth(0).inner_text()
    sides = [[papers.nth(i).locator("td").nth(j).inner_text() for j in (0, 1)] for i in range(picked)]
    assert sum("not picked" in new for _, new in sides) == picked - 13  # base picks the new one dropped
    assert sum("not picked" in base for base, _ in sides) == picked - 13
    assert no_overflow(page)
    assert page.locator("script").count() == 0
    assert errors == []
    page.close()
