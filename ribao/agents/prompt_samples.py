"""Sample values of every prompt file's variables, built with the agents' own view helpers.

`ribao prompts check` (`ribao.prompts.check`) renders each file with them.
"""

from __future__ import annotations

import datetime as dt
import functools
from importlib import resources
from pathlib import Path
from typing import Any

from ribao.sources.options import ListingOptions

# Six real papers of the bundled day: two with a code link, several with an author comment.
SAMPLE_IDS = ("2602.15038", "2602.15156", "2602.15034", "2602.15112", "2602.15143", "2602.15222")
SAMPLE_DAY = dt.date(2026, 2, 18)
SAMPLE_CATEGORIES = ["cs.CL", "cs.AI", "cs.LG"]


@functools.cache
def sample_variables() -> dict[str, dict[str, Any]]:
    """Return, per file (``agent/name.md.j2``), a sample value of each variable the registry lists for it.

    Built from real papers of the bundled 2026-02-18 listing with the agents' own view helpers,
    and every optional branch switched on (memory flags, a critique, a code link, a lead), so a
    check reaches every attribute a template uses. The names are the registry's (the prompt
    library renders nothing else); `tests/test_prompts_cli.py` compares the values' shapes
    against a real (scripted) run.
    """
    from ribao.agents.candidates import candidate_keys, flag_views, view
    from ribao.agents.triage import triage_view
    from ribao.delivery.view import digest_view
    from ribao.digest import build_record
    from ribao.schemas import CriticDecision, MemoryFlag, Pick, RubricScores, Summary
    from ribao.settings import Settings
    from ribao.sources import read_listing

    path = Path(str(resources.files("ribao") / "data" / f"{SAMPLE_DAY.isoformat()}.cs.jsonl"))
    listing = read_listing(ListingOptions(str(path), categories=SAMPLE_CATEGORIES), None)
    keys = candidate_keys(listing.papers)
    by_id = {p.arxiv_id: p for p in listing.papers}
    papers = [by_id[i] for i in SAMPLE_IDS]
    picked, alternates = papers[:4], papers[4:]
    words = Settings.model_fields["screener_abstract_words"].default
    triage_words = Settings.model_fields["triage_abstract_words"].default
    shown = {p.arxiv_id: keys[p.arxiv_id] for p in papers}
    # Relevance to a reader's profile switches on the profile branches (`ribao.profiles.run`).
    evidence = "Interpreting Multilingual Models (2602.10002)"
    base = {p.arxiv_id: view(p, keys[p.arxiv_id], words) for p in papers}
    views = {pid: {**v, "relevance": 0.71, "evidence": evidence} for pid, v in base.items()}
    profile = {
        "name": "nlp",
        "interests": "多语言模型与可解释性",
        "keywords": ["multilingual language models", "interpretability"],
        "authors": ["Ada Lovelace"],
        "avoid": ["quantum computing"],
    }

    picks = [
        Pick(
            arxiv_id=p.arxiv_id,
            rank=rank,
            tier="must_read" if rank <= 2 else "notable",
            scores=RubricScores(novelty=4, impact=4, rigor=3),
            triage_score=9 - rank,
            relevance=0.71,
            why=["与你收藏的《Interpreting Multilingual Models》相近"],
            reason="针对多语言模型的可解释性，给出了可复现的分析工具。",
        )
        for rank, p in enumerate(picked, start=1)
    ]
    flag = MemoryFlag(
        arxiv_id=papers[1].arxiv_id,
        similar_to="2602.10001",
        similar_title="Continual Learning with Structured Memory",
        featured_on=dt.date(2026, 2, 11),
        similarity=0.91,
    )
    flags = flag_views([flag], shown)
    keep = CriticDecision(arxiv_id=picks[0].arxiv_id, decision="keep", reason="入选合理")
    swap = CriticDecision(
        arxiv_id=picks[3].arxiv_id,
        decision="replace",
        reason="不如落选候选",
        replacement=alternates[0].arxiv_id,
    )
    must_text: dict[str, Any] = {"title_zh": "多语言模型的可解释性", "background": "现有工具多针对英语。"}
    must_text |= {"innovation": "按语言校准的透镜。", "details": "逐层仿射探针。", "results": "优于基线。"}
    summaries = {
        p.arxiv_id: Summary(
            arxiv_id=p.arxiv_id,
            tier=p.tier,
            **(must_text if p.tier == "must_read" else {"one_line": "一个值得关注的新基准。"}),
        )
        for p in picks
    }
    record = build_record(
        date=SAMPLE_DAY, run_id="01KSAMPLE0000000000000000", scanned=len(listing.papers),
        categories=SAMPLE_CATEGORIES, picks=picks, papers=by_id, summaries=summaries, critiques=[],
        calls=[], cost=0.0312, currency="CNY", lead="今天的论文集中在多语言可解释性与持续学习。",
        wanted=6, profile="nlp", floor=0.2,
    )  # fmt: skip
    # A stand-in excerpt makes the check reach the full-text branch too.
    excerpt = "1 Introduction\n" + papers[0].abstract
    return {
        "screener/system.md.j2": {},
        "screener/triage_rules.md.j2": {},
        "screener/triage.md.j2": {
            "batch_index": 1,
            "batch_count": 9,
            "candidates": [triage_view(p, f"P{i:02d}", triage_words) for i, p in enumerate(papers, start=1)],
        },
        "screener/rank.md.j2": {
            "round": 2,
            "must_read": 2,
            "notable": 2,
            "candidates": list(views.values()),
            "critique": [
                {**d.model_dump(), "key": keys[d.arxiv_id], "replacement": keys.get(d.replacement or "")}
                for d in (keep, swap)
            ],
            "flags": flags,
            "profile": profile,
        },
        "screener/reasons.md.j2": {
            "candidates": [{**views[p.arxiv_id], "tier": p.tier} for p in picks],
            "profile": profile,
        },
        "critic/system.md.j2": {},
        "critic/user.md.j2": {
            "round": 1,
            "picks": [
                {**views[p.arxiv_id], "rank": p.rank, "tier": p.tier, "reason": p.reason} for p in picks
            ],
            "alternates": [views[p.arxiv_id] for p in alternates],
            "flags": flags,
            "profile": profile,
        },
        "writer/system.md.j2": {},
        "writer/must_read.md.j2": {"paper": papers[0], "fulltext": excerpt},
        "writer/notable.md.j2": {"paper": papers[2], "fulltext": excerpt},
        "editor/system.md.j2": {},
        "editor/user.md.j2": {
            "date": SAMPLE_DAY.isoformat(),
            "items": [
                {
                    "rank": p.rank,
                    "title": by_id[p.arxiv_id].title_display,
                    "summary": summaries[p.arxiv_id].title_zh or summaries[p.arxiv_id].one_line or "",
                }
                for p in picks
            ],
        },
        # The page's variables are the digest view's, with tokens a real run would have.
        "editor/digest.md.j2": {**digest_view(record), "total_tokens": 123_456},
    }
