"""Relevance with the real MiniLM embedder on the real bundled day (ribao/profiles/relevance.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from ribao.profiles.relevance import (
    AUTHOR_BONUS,
    AVOID_PENALTY,
    FEEDBACK_CAP,
    recency_weights,
    score_candidates,
)
from ribao.profiles.resolve import ProfilePaper, ResolvedProfile, default_profile
from ribao.settings_models import ProfileSettings
from tests.support.profiles import (
    as_profile_papers,
    bundled_day,
    bundled_seed_records,
    embedder,
    is_robotics,
    robotics_profile,
)


def test_a_robotics_profile_ranks_the_days_robotics_papers_first() -> None:
    papers = bundled_day()
    scores = score_candidates(robotics_profile(), papers, embedder())
    assert set(scores) == {p.arxiv_id for p in papers}
    assert all(0.0 <= r.score <= 1.0 for r in scores.values())
    top = sorted(papers, key=lambda p: -scores[p.arxiv_id].score)[:13]
    robotics = [p for p in papers if is_robotics(p)]
    # 13 of the day's 180 papers are filed under cs.RO; in listing order the first 13 hold 2 of them.
    assert len(robotics) == 13 and sum(is_robotics(p) for p in papers[:13]) == 2
    assert sum(is_robotics(p) for p in top) >= 6
    mean = sum(scores[p.arxiv_id].score for p in robotics) / len(robotics)
    rest = [scores[p.arxiv_id].score for p in papers if not is_robotics(p)]
    assert mean > 2 * sum(rest) / len(rest)
    assert any(r.startswith("符合你的兴趣：") for r in scores[top[0].arxiv_id].reasons)


def test_seed_papers_are_evidence_and_reasons() -> None:
    seeds = [ProfilePaper(str(r["id"]), str(r["title"]), str(r["abstract"])) for r in bundled_seed_records()]
    profile = ResolvedProfile(
        "robots", ProfileSettings(seed_papers=[s.arxiv_id or "" for s in seeds]), seeds=seeds
    )
    scores = score_candidates(profile, bundled_day(), embedder())
    best = max(scores.values(), key=lambda r: r.score)
    assert best.evidence is not None and any(f"({s.arxiv_id})" in best.evidence for s in seeds)
    assert any(r.startswith("与你的种子论文《") for r in best.reasons)


def test_the_default_profile_scores_nothing() -> None:
    assert score_candidates(default_profile(), bundled_day(), embedder()) == {}


def test_feedback_moves_no_score_by_more_than_its_cap() -> None:
    papers = bundled_day()
    plain = score_candidates(robotics_profile(), papers, embedder())
    # A reader who liked 40 language-model papers and disliked 40 others: taste far from the interests.
    cl = [p for p in papers if p.primary_category == "cs.CL"]
    lg = [p for p in papers if p.primary_category == "cs.LG" and not is_robotics(p)]
    day = dt.date(2026, 2, 1)
    liked = [ProfilePaper(p.arxiv_id, p.title, p.abstract, day) for p in cl[:40]]
    disliked = [ProfilePaper(p.arxiv_id, p.title, p.abstract, day) for p in lg[:40]]
    base = robotics_profile()
    learned = ResolvedProfile(base.name, base.settings, base.keywords, liked=liked, disliked=disliked)
    fed = score_candidates(learned, papers, embedder())
    moves = [fed[i].score - plain[i].score for i in plain]
    assert max(abs(m) for m in moves) <= FEEDBACK_CAP + 1e-6
    assert max(moves) > FEEDBACK_CAP / 2 and min(moves) < -FEEDBACK_CAP / 2  # it does act, both ways
    # Whatever was liked, the reader's own field keeps the top: the best robotics paper still leads.
    best = max(plain, key=lambda i: plain[i].score)
    assert sorted(fed, key=lambda i: -fed[i].score).index(best) < 5


def test_a_followed_author_raises_and_an_avoided_topic_lowers() -> None:
    papers = bundled_day()
    target = next(p for p in papers if is_robotics(p))
    author = target.authors[0]
    plain = score_candidates(robotics_profile(), papers, embedder())
    followed = score_candidates(robotics_profile(authors=[author]), papers, embedder())
    assert followed[target.arxiv_id].score == pytest.approx(
        min(1.0, plain[target.arxiv_id].score + AUTHOR_BONUS)
    )
    assert f"你关注的作者 {author}" in followed[target.arxiv_id].reasons
    word = "humanoid"
    hit = [p for p in papers if word in f"{p.title} {p.abstract}".lower()]
    avoided = score_candidates(robotics_profile(avoid=[word]), papers, embedder())
    assert hit
    for p in hit:
        assert avoided[p.arxiv_id].score == pytest.approx(max(0.0, plain[p.arxiv_id].score - AVOID_PENALTY))
        assert f"涉及你回避的「{word}」" in avoided[p.arxiv_id].reasons


def test_recent_library_papers_weigh_more() -> None:
    dates = [dt.date(2025, 1, 1), dt.date(2026, 2, 1), None, dt.date(2025, 6, 1)]
    papers = [ProfilePaper(None, "t", "a", d) for d in dates]
    w = recency_weights(papers)
    assert w[1] == 1.0 and w[1] > w[3] > w[0] > w[2] >= 0.6
    assert list(recency_weights(as_profile_papers(bundled_day()[:3]))) == [1.0, 1.0, 1.0]
