"""Triage fans out one task per batch, in listing order, and its merged scores ignore completion order."""

from __future__ import annotations

import datetime as dt

from langgraph.types import Send

from ribao.graph.routing import route_after_recall
from ribao.schemas import Exclusion, Paper
from ribao.state import DigestState, merge_scores


def paper(i: int) -> Paper:
    return Paper(
        arxiv_id=f"2602.{i:05d}", title=f"Paper {i}", title_display=f"Paper {i}", abstract="An abstract.",
        authors=["A"],
        primary_category="cs.CL", categories=["cs.CL"],
    )  # fmt: skip


def test_batches_follow_listing_order_and_skip_scored_ones() -> None:
    papers = [paper(i) for i in range(7)]
    state: DigestState = {
        "requested_date": None, "max_critic_rounds": 1, "date": dt.date(2026, 2, 18), "candidates": papers,
        "excluded": [Exclusion(arxiv_id=papers[0].arxiv_id, featured_on=dt.date(2026, 2, 1))],
    }  # fmt: skip
    sends = route_after_recall(state, 3)
    assert isinstance(sends, list) and all(isinstance(s, Send) for s in sends)
    assert [[p.arxiv_id for p in s.arg["papers"]] for s in sends] == [
        [p.arxiv_id for p in papers[1:4]],
        [p.arxiv_id for p in papers[4:7]],
    ]
    # A resumed run sends only the papers that have no scores yet; none left means rank now.
    state["triage_scores"] = {p.arxiv_id: 5 for p in papers[1:4]}
    again = route_after_recall(state, 3)
    assert isinstance(again, list) and [[p.arxiv_id for p in s.arg["papers"]] for s in again] == [
        [p.arxiv_id for p in papers[4:7]]
    ]
    # Scores another profile shared are scattered: the rest is batched afresh, not batch by batch.
    state["triage_scores"] = {p.arxiv_id: 5 for p in papers[1:7:2]}
    rest = route_after_recall(state, 3)
    assert isinstance(rest, list) and [[p.arxiv_id for p in s.arg["papers"]] for s in rest] == [
        [papers[2].arxiv_id, papers[4].arxiv_id, papers[6].arxiv_id]
    ]
    state["triage_scores"] = {p.arxiv_id: 5 for p in papers}
    assert route_after_recall(state, 3) == "flag_near_duplicates"


def test_merged_scores_do_not_depend_on_completion_order() -> None:
    a, b = {"2602.00002": 7, "2602.00003": 1}, {"2602.00001": 9}
    assert list(merge_scores(merge_scores({}, a), b).items()) == list(
        merge_scores(merge_scores({}, b), a).items()
    )
