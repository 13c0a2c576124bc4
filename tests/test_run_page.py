"""`ribao runs view`: the run page of a 471-paper run through the loopback OpenAI stub and of a failed
run, in a real browser (Debian's chromium) at 375 px and 1280 px: no console errors, no horizontal
overflow, the graph and the timeline drawn, a paper's path reachable, a call's messages unpacked.
Screenshots go to tests/artifacts/run-page/ (the test prints the folder)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ribao.cli import app
from ribao.registry import NODES
from ribao.runs import RunLog
from tests.support.big_listing import write_listing
from tests.support.browser import ARTIFACTS, launch_chromium, no_overflow, open_page
from tests.support.http_run import SECRET, respond, write_config
from tests.support.stub_openai import StubOpenAI

SHOTS = ARTIFACTS / "run-page"


@dataclass
class Pages:
    home: Path
    done: Path
    failed: Path
    done_id: str
    failed_id: str


def writer_breaks(body: dict[str, Any]) -> dict[str, Any]:
    """Answer every call validly except the must-read writer's, whose reply always breaks the schema
    (the run re-asks, then fails loudly); the key is echoed to check the page masks it."""
    reply = respond(body)
    if reply["tool"] == "MustReadOutput":
        return {"tool": "MustReadOutput", "args": {"title_zh": f"坏 {SECRET}"}, "usage": reply["usage"]}
    return reply


def _cli(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return result


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pages]:
    tmp = tmp_path_factory.mktemp("runpage")
    home = tmp / "home"
    home.mkdir()
    listing = write_listing(tmp / "2026-02-18.big.jsonl", 471)
    with pytest.MonkeyPatch.context() as mp, StubOpenAI() as stub:
        write_config(home, stub.base_url)
        with (home / "config.toml").open("a", encoding="utf-8") as f:
            f.write("[fulltext]\nenabled = false\n")
        mp.setenv("RIBAO_HOME", str(home))
        mp.setenv("STUB_API_KEY", SECRET)
        mp.chdir(tmp)
        stub.responder = respond
        assert _cli("run", "--source", str(listing), "--quiet").exit_code == 0
        stub.responder = writer_breaks
        assert _cli("run", "--source", str(listing), "--quiet").exit_code == 1
        with RunLog.open(home) as log:
            failed, done = (r.run_id for r in log.list_runs()[:2])
        _cli("runs", "view", done, "--out", str(tmp / "done.html"))
        _cli("runs", "view", failed[:10], "--out", str(tmp / "failed.html"))
    yield Pages(home, tmp / "done.html", tmp / "failed.html", done, failed)


def test_page_is_self_contained_small_and_masked(pages: Pages) -> None:
    for path in (pages.done, pages.failed):
        html = path.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "no external resource"
        assert "@font-face" not in html and "<link" not in html
        assert SECRET not in html
    size = pages.done.stat().st_size
    print(f"run page of 471 candidates: {size / 1e6:.2f} MB")
    assert size <= 2_000_000


@pytest.mark.parametrize("width", [375, 1280])
def test_done_run_page_in_chromium(pages: Pages, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {SHOTS}")
    with launch_chromium() as browser:
        page, errors = open_page(browser, pages.done.as_uri(), width)
        assert page.locator("#graph svg g.box").count() == len(NODES)
        assert page.locator("#graph svg g.box.failed").count() == 0
        assert page.locator("#graph svg path.edge").count() >= len(NODES) - 1
        assert page.locator("#timeline rect.bar.node").count() >= 24 + 13  # triage batches, writers
        assert page.locator("#timeline rect.bar.crit").count() >= len(NODES) - 1
        assert page.locator("#candidates details").count() == 471
        assert no_overflow(page), "horizontal overflow"
        page.screenshot(path=str(SHOTS / f"done-{width}.png"))
        # A pick's link leads to its path among the candidates, opened.
        link = page.locator("#picks summary a").first
        pid = link.inner_text()
        link.click()
        target = page.locator(f"[id='why-{pid}']")
        assert target.evaluate("d => d.open") and "triage: score" in target.inner_text()
        assert "final: must-read, rank 1, in the digest" in target.inner_text()
        # A call's messages and reply are unpacked when it is opened.
        call = page.locator("details.call").first
        call.locator("summary").click()
        page.wait_for_function("document.querySelectorAll('details.call .msgs pre').length >= 3")
        assert re.search(r"第 \d+/24 批", call.inner_text())
        page.screenshot(path=str(SHOTS / f"done-{width}-full.png"), full_page=True)
        assert errors == []
        page.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_failed_run_page_in_chromium(pages: Pages, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with launch_chromium() as browser:
        page, errors = open_page(browser, pages.failed.as_uri(), width)
        assert "LLMOutputError" in page.locator("#failure").inner_text()
        assert page.locator("#graph svg g.box.failed").count() >= 1
        assert page.locator("#graph svg g.box.not-run").count() >= 1  # nothing after the writers ran
        assert page.locator("#timeline rect.bar.err").count() >= 2  # the re-ask and the failed task
        assert page.locator("#timeline li, #timeline a[href^='#call-']").count() >= 1
        assert no_overflow(page), "horizontal overflow"
        page.screenshot(path=str(SHOTS / f"failed-{width}.png"), full_page=True)
        assert errors == []
        page.close()
