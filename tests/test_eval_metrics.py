"""The metrics against values computed by hand on a seven-paper day, with ties and empty references."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from ribao.evals.metrics import (
    Reference,
    Tally,
    cost_metrics,
    day_ranking,
    pick_metrics,
    pick_overlap,
    spread,
    summary_metrics,
    upvote_gain,
)
from ribao.evals.outputs import RunOutputs
from ribao.runs.rows import AgentUsage, CallRow
from ribao.schemas import Pick, RubricScores, Summary


def _pick(pid: str, rank: int, tier: str, triage: int) -> Pick:
    scores = RubricScores(novelty=3, impact=3, rigor=3)
    return Pick(arxiv_id=pid, rank=rank, tier=tier, scores=scores, triage_score=triage, reason="因为")


def day() -> RunOutputs:
    """p7 and p5 tie on triage score 2 (p7 listed first); p6 has no triage score."""
    return RunOutputs(
        run_id="R1",
        date=dt.date(2026, 2, 18),
        candidates=["p1", "p2", "p3", "p4", "p7", "p5", "p6"],
        triage_scores={"p1": 5, "p2": 9, "p3": 7, "p4": 7, "p7": 2, "p5": 2},
        shortlist=["p2", "p3", "p4", "p1"],
        picks=[_pick("p2", 2, "notable", 9), _pick("p3", 1, "must_read", 7)],
        summaries={
            "p3": Summary(
                arxiv_id="p3",
                tier="must_read",
                title_zh="测试模型",
                background="准确率达到 77.8%，比基线高 12 点",
                innovation="",
                details="使用 Transformer",
            ),
            "p2": Summary(arxiv_id="p2", tier="notable", one_line="一句话"),
        },
        sources={"p3": "Our model reaches 77.8% accuracy."},
    )


REF = Reference(
    gains={"p2": upvote_gain(2), "p4": upvote_gain(0), "p6": upvote_gain(6), "x9": upvote_gain(50)},
    liked=frozenset({"p3"}),
    disliked=frozenset({"p2", "p4"}),
)


def test_the_day_is_ranked_picks_then_shortlist_then_triage_score_ties_by_id() -> None:
    assert day_ranking(day()) == ["p3", "p2", "p4", "p1", "p5", "p7", "p6"]


def test_pick_metrics_match_the_hand_computed_values() -> None:
    m = pick_metrics(day(), REF)
    values = {name: t.value() if t else None for name, t in m.items()}
    assert upvote_gain(0) == 1.0 and upvote_gain(2) == 2.0 and upvote_gain(6) == 3.0
    # x9 is not a candidate: ignored. p2 (gain 2) at position 2, p4 (1) at 3, p6 (3) at 7.
    dcg = 2 / math.log2(3) + 1 / math.log2(4) + 3 / math.log2(8)
    idcg = 3 / math.log2(2) + 2 / math.log2(3) + 1 / math.log2(4)
    assert values["hits@2"] == 1
    assert values["must_read_hits"] == 0
    assert values["ndcg"] == pytest.approx(dcg / idcg)
    assert values["ndcg"] == pytest.approx(0.57999, abs=1e-5)
    assert values["shortlist_survival"] == pytest.approx(2 / 3)
    assert values["liked_share"] == pytest.approx(1 / 2)  # p3 liked, p2 disliked; p4 not picked


def test_an_ideal_ranking_scores_ndcg_one() -> None:
    out = day().model_copy(update={"shortlist": [], "picks": [_pick("p6", 1, "must_read", 1)]})
    ref = Reference(gains={"p6": 3.0})
    assert pick_metrics(out, ref)["ndcg"].value() == 1.0  # type: ignore[union-attr]


def test_empty_references_give_no_value_rather_than_zero() -> None:
    for ref in (Reference(gains={}), Reference(gains={"x9": 4.0, "p1": 0.0})):
        m = pick_metrics(day(), ref)
        assert m == {
            "hits@2": None,
            "must_read_hits": None,
            "ndcg": None,
            "shortlist_survival": None,
            "liked_share": None,
        }


def test_summary_metrics_match_the_hand_computed_values() -> None:
    m = summary_metrics(day())
    values = {name: t.value() if t else None for name, t in m.items()}
    assert values["numbers_supported"] == pytest.approx(1 / 2)  # 77.8 is in the source, 12 is not
    assert values["fields_complete"] == pytest.approx(4 / 6)  # p3: 3 of 5 fields, p2: 1 of 1
    assert values["chinese_share"] == pytest.approx(19 / 30)  # 16 + 3 han, 11 latin letters
    assert values["length.background"] == len("准确率达到 77.8%，比基线高 12 点")
    assert values["length.one_line"] == 3
    assert values["length.results"] is None


def test_a_pick_without_a_summary_counts_its_fields_missing() -> None:
    out = day()
    out.summaries.pop("p2")
    assert summary_metrics(out)["fields_complete"].value() == pytest.approx(3 / 6)  # type: ignore[union-attr]


def _call(agent: str, latency: float) -> CallRow:
    return CallRow(
        id=1, run_id="R1", seq=1, node="n", agent=agent, model="m", task="t", messages=[], raw="",
        latency_s=latency, created_at=dt.datetime(2026, 2, 18, tzinfo=dt.UTC),
    )  # fmt: skip


def test_cost_is_summed_per_agent_and_unknown_when_a_price_is() -> None:
    usage = {
        "screener": AgentUsage(calls=2, input_tokens=100, output_tokens=20, cached_tokens=10, cost=0.5),
        "writer": AgentUsage(calls=3, input_tokens=300, output_tokens=90, cached_tokens=0, cost=None),
    }
    calls = [_call("screener", 1.5), _call("screener", 0.5), _call("writer", 2.0)]
    values = {k: t.value() if t else None for k, t in cost_metrics(usage, calls).items()}
    assert values["calls"] == 5 and values["input_tokens"] == 400 and values["output_tokens"] == 110
    assert values["cached_tokens"] == 10 and values["latency_s"] == 4.0
    assert values["cost"] is None and values["screener.cost"] == 0.5 and values["writer.cost"] is None
    assert values["screener.latency_s"] == 2.0


def test_tallies_over_several_days_and_stability() -> None:
    assert Tally({"a": (1.0, 0.0), "b": (2.0, 0.0)}, "count").value(days=2) == 1.5
    assert Tally({"a": (1.0, 2.0), "b": (0.0, 2.0)}).value() == 0.25
    assert Tally({}).value() is None
    assert pick_overlap([{"a", "b"}, {"b", "c"}, {"a", "b"}]) == pytest.approx(5 / 9)
    assert pick_overlap([{"a"}]) is None
    assert spread([0.5, None, 0.2, 0.4]) == pytest.approx(0.3)
    assert spread([0.5, None]) is None
