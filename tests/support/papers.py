"""Papers, picks, summaries and records for the digest tests: small, real-looking, built in code."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from ribao.digest import build_record, render_markdown
from ribao.prompts import PromptLibrary
from ribao.record import DigestRecord, DigestUsage
from ribao.schemas import Paper, Pick, RubricScores, Summary

DAY = dt.date(2026, 2, 18)


def paper(i: int, title: str = "", **kw: object) -> Paper:
    title = title or f"Paper {i}"
    fields: dict[str, object] = {
        "arxiv_id": f"2602.{15000 + i}",
        "title": title,
        "title_display": title,
        "authors": ["A One", "B Two", "C Three", "D Four"],
        "abstract": "abstract",
        "categories": ["cs.CL"],
        "primary_category": "cs.CL",
    }
    return Paper(**{**fields, **kw})  # type: ignore[arg-type]


def pick(p: Paper, rank: int, must: int = 3) -> Pick:
    return Pick(
        arxiv_id=p.arxiv_id,
        rank=rank,
        tier="must_read" if rank <= must else "notable",
        scores=RubricScores(novelty=3, impact=3, rigor=3),
        triage_score=5,
        reason="理由",
    )


def summary(p: Paper, tier: str) -> Summary:
    if tier == "must_read":
        return Summary(arxiv_id=p.arxiv_id, tier="must_read", title_zh="标题", background="背景",
                       innovation="创新", details="细节", results="结果")  # fmt: skip
    return Summary(arxiv_id=p.arxiv_id, tier="notable", one_line="一句话 | 带竖线")


def record_of(
    papers: list[Paper], *, must: int = 3, scanned: int = 180, lead: str | None = None, **kw: object
) -> DigestRecord:
    """Return the record of a digest of `papers` (the first `must` are must-reads): 92,254 tokens, ¥0.03."""
    picks = [pick(p, i + 1, must) for i, p in enumerate(papers)]
    record = build_record(
        date=DAY, run_id="RUN", scanned=scanned, categories=["cs.CL", "cs.AI", "cs.LG"], picks=picks,
        papers={p.arxiv_id: p for p in papers},
        summaries={p.arxiv_id: summary(p, k.tier) for p, k in zip(papers, picks, strict=True)},
        critiques=[], calls=[], cost=0.03, currency="CNY", lead=lead, **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    return record.model_copy(update={"usage": DigestUsage(input_tokens=92254, cost=0.03, currency="CNY")})


def render(papers: list[Paper], tmp_path: Path, lead: str | None = None) -> str:
    return render_markdown(record_of(papers, lead=lead), PromptLibrary(user_dir=tmp_path / "none"))


def cells(row: str) -> list[str]:
    """Split a Markdown table row on unescaped pipes."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
