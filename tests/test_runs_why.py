"""`ribao runs why`: every kind of path a paper takes through a run, read back from the run log.

One run of 40 real papers with scripted agents: one paper was featured on an earlier day (excluded
by the memory), the critic replaces the first pick in round 1 and keeps everything in round 2.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ribao.cli import app
from ribao.memory import HashEmbedder, MemoryStore
from ribao.runs import RunLog
from ribao.runs.why import PaperPath, path_of
from ribao.runs.why_text import path_lines
from ribao.schemas import FeaturedPaper
from tests.support.fakes import default_responder
from tests.support.graph import FIRST40, models, run, sample_settings

EARLIER = dt.date(2026, 2, 10)
OTHER_DAY_ID = "2602.00042"


def _ids() -> list[str]:
    return [json.loads(line)["id"] for line in FIRST40.read_text(encoding="utf-8").splitlines()]


def critic_replacing_once() -> Any:
    """A critic that replaces the first pick with the first alternate in round 1, then keeps all."""
    rounds = []

    def respond(name: str, schema: dict[str, Any], messages: list[Any]) -> dict[str, Any]:
        args = default_responder(name, schema, messages)
        if name == "CriticVerdicts" and not rounds:
            rounds.append(1)
            first = next(iter(args))
            entry = schema["properties"][first]["properties"]["replacement"]
            args[first] = {
                "decision": "replace",
                "reason": "证据不足，换更扎实的一篇",
                "replacement": entry["enum"][0],
            }
        return args

    return respond


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("why")
    settings = sample_settings(tmp, source=str(FIRST40), max_critic_rounds=2)
    gone = _ids()[5]
    with MemoryStore.open(tmp / "memory", embedder=HashEmbedder()) as memory:
        memory.remember(EARLIER, [FeaturedPaper(arxiv_id=gone, title="t", abstract="a", date=EARLIER,
                                                tier="notable", rank=1, run_id="r0")])  # fmt: skip
        run(settings, memory, models(critic=critic_replacing_once()))
    with RunLog.open(settings.home) as log:  # another day's run whose listing held OTHER_DAY_ID
        log.start_run("01OTHERDAY", settings={}, date=dt.date(2026, 2, 18), categories=["cs.CL"])
        now = dt.datetime.now(dt.UTC)
        log.record_node("01OTHERDAY", node="fetch_listing", task_id="t", started_at=now, finished_at=now,
                        outputs={"candidates": [{"arxiv_id": OTHER_DAY_ID, "title": "Other"}]})  # fmt: skip
        log.finish_run("01OTHERDAY", status="failed", error="RibaoError: stopped")
    yield settings.home


def why(home: Path, pid: str) -> PaperPath:
    with RunLog.open(home) as log:
        run_id = next(r.run_id for r in log.list_runs() if r.run_id != "01OTHERDAY")
        return path_of(log, run_id, pid)


def by_run(home: Path) -> tuple[str, dict[str, Any]]:
    with RunLog.open(home) as log:
        r = next(r for r in log.list_runs() if r.run_id != "01OTHERDAY")
        return r.run_id, r.critiques[0]


def test_excluded_by_the_memory_says_when_it_was_featured(home: Path) -> None:
    p = why(home, _ids()[5])
    assert p.candidate and p.featured_on == EARLIER and p.triage_score is None and p.rounds == []
    assert (
        path_lines(p)[-1] == "excluded by the memory: featured on 2026-02-10, so never shown to the screener"
    )


def test_cut_at_the_shortlist_gives_the_score_at_the_cut(home: Path) -> None:
    p = why(home, _ids()[-1])  # scored 3 and last in listing order: below the 26 shortlisted
    first = p.rounds[0]
    assert p.triage_score == 3 and p.triage_rank == p.eligible == 39
    assert first.recorded and first.shortlisted is False and first.cut_score == 3 and first.size == 26
    assert p.final_tier is None and first.rubric is None
    text = "\n".join(path_lines(p))
    assert (
        "round 1: missed the shortlist — its triage score 3, the cut at triage score 3, 26 shortlisted"
        in text
    )
    assert text.endswith("final: not in the digest")


def test_replaced_by_the_critic_and_its_replacement(home: Path) -> None:
    _, round1 = by_run(home)
    replaced = next(d for d in round1["decisions"] if d["decision"] == "replace")
    old, new = why(home, replaced["arxiv_id"]), why(home, replaced["replacement"])
    assert old.rounds[0].decision == "replace" and old.rounds[0].replaced_by == new.arxiv_id
    assert old.rounds[0].rank == 1 and old.rounds[0].rubric is not None
    assert old.final_tier is None and len(old.rounds) == 2 and old.rounds[1].rank is None
    assert path_lines(old)[-1] == "final: not in the digest — replaced by the critic in round 1"
    assert (
        new.rounds[0].replaces == old.arxiv_id and new.rounds[0].replaces_reason == "证据不足，换更扎实的一篇"
    )
    assert new.rounds[1].rank is not None and new.rounds[1].decision == "keep" and new.final_tier
    assert f"suggested by the critic to replace {old.arxiv_id}: 证据不足，换更扎实的一篇" in "\n".join(
        path_lines(new)
    )


def test_kept_pick_shows_rubric_critic_and_final_tier(home: Path) -> None:
    _, round1 = by_run(home)
    kept = next(d["arxiv_id"] for d in round1["decisions"] if d["decision"] == "keep")
    p = why(home, kept)
    assert [s.decision for s in p.rounds] == ["keep", "keep"] and p.triage_score is not None
    assert p.final_tier in ("must_read", "notable") and p.final_rank == p.rounds[-1].rank
    lines = path_lines(p)
    assert any(line.startswith("round 1: made the shortlist") and "rubric novelty" in line for line in lines)
    assert "  critic: keep: 入选合理" in lines and lines[-1].startswith("final: ")


def test_not_a_candidate_names_another_days_listing(home: Path) -> None:
    other = why(home, OTHER_DAY_ID)
    assert not other.candidate and "a candidate of another day's listing: 2026-02-18 (run 01OTHERDAY)" in (
        other.not_candidate
    )
    later = why(home, "2703.00001")
    assert later.not_candidate[0] == "not on the 2026-02-19 listing of cs.CL, cs.AI, cs.LG (40 candidates)"
    assert "its id dates it after this listing (2027-03)" in later.not_candidate


def test_cli_answers_in_text_and_json_and_refuses_a_bad_id(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIBAO_HOME", str(home))
    run_id, _ = by_run(home)
    pid = _ids()[5]
    out = CliRunner().invoke(app, ["runs", "why", run_id[:12], f"https://arxiv.org/abs/{pid}v2", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["featured_on"] == "2026-02-10"
    text = CliRunner().invoke(app, ["runs", "why", run_id, pid])
    assert text.exit_code == 0 and "excluded by the memory" in text.output
    bad = CliRunner().invoke(app, ["runs", "why", run_id, "not-an-id"])
    assert bad.exit_code == 2 and "not an arXiv id" in bad.output


def test_relevance_and_evidence_are_read_from_the_ranking_when_the_run_had_a_profile(tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    rubric = {"novelty": 4, "impact": 4, "rigor": 3}
    ranked = {"arxiv_id": "2602.00001", "rank": 1, "tier": "must_read", "scores": rubric, "triage_score": 8,
              "relevance": 0.82, "why": ["与你收藏的《X》相近"]}  # fmt: skip
    steps = [
        ("fetch_listing", {"candidates": [{"arxiv_id": "2602.00001", "title": "A"}]}),
        ("recall_memory", {"excluded": []}),
        ("triage_batch", {"triage_scores": {"2602.00001": 8}}),
        ("rank_papers", {"ranking": [ranked], "screen_rounds": 1}),
    ]
    with RunLog.open(tmp_path) as log:
        log.start_run("01PROFILE", settings={}, date=dt.date(2026, 2, 18), categories=["cs.CL"])
        for node, outputs in steps:
            log.record_node(
                "01PROFILE", node=node, task_id=node, started_at=now, finished_at=now, outputs=outputs
            )
        log.finish_run("01PROFILE", status="failed", error="RibaoError: stopped")
        p = path_of(log, "01PROFILE", "2602.00001")
    assert p.relevance == 0.82 and p.evidence == ["与你收藏的《X》相近"]
    assert (
        p.rounds[0].recorded is False and p.rounds[0].rank == 1
    )  # a run from before the shortlist was recorded
    lines = path_lines(p)
    assert "relevance to the reader: 0.82 (与你收藏的《X》相近)" in lines
    assert lines[-1] == "final: not in the last picks (this run has written no digest)"
