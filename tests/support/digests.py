"""Write real digests (Markdown, JSON, HTML through the product's own writer) for the delivery tests.

Papers come from the real listing in tests/data; summaries are long Chinese text so that a digest
with 3 must-reads exceeds every small push channel's limit.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from ribao.digest import build_record, write_record
from ribao.prompts import PromptLibrary
from ribao.schemas import Paper, Pick, RubricScores, Summary
from ribao.sources.files import read_file

LONG = (
    "大型语言模型在长上下文推理中仍然存在显著的检索遗漏与注意力稀释问题，现有方法依赖昂贵的再训练或外部检索，"
    "难以在部署时兼顾延迟与准确率。本文提出一种无需训练的分层缓存机制，按语义块动态调度键值缓存，"
    "并结合置信度估计在解码阶段选择性回溯。"
) * 6
HOSTILE = '<script>alert("x")</script> & <b>bold</b> [link](javascript:alert(1))'


def papers(n: int = 13) -> list[Paper]:
    """Return the first `n` real papers of tests/data/2026-02-19.first40.jsonl."""
    path = Path(__file__).parent.parent / "data" / "2026-02-19.first40.jsonl"
    return list(read_file(path, ["cs.CL", "cs.AI", "cs.LG"]).papers[:n])


def write_day(out: Path, date: dt.date, *, hostile: bool = False, code_url: str | None = None) -> Path:
    """Write `<out>/<date>.md|.json|.html` with 3 must-reads and 10 notables; return the JSON path."""
    ps = papers()
    if hostile:
        ps[0] = ps[0].model_copy(update={"title_display": HOSTILE + " " + ps[0].title_display})
    if code_url is not None:
        ps[1] = ps[1].model_copy(update={"code_url": code_url})
    picks, summaries = [], {}
    for i, p in enumerate(ps, 1):
        tier = "must_read" if i <= 3 else "notable"
        reason = f"第{i}篇：方法新颖，实验扎实，对长上下文推理有直接启发。"
        scores = RubricScores(novelty=4, impact=4, rigor=4)
        picks.append(
            Pick(arxiv_id=p.arxiv_id, rank=i, tier=tier, scores=scores, triage_score=8, reason=reason)
        )  # noqa: E501
        if tier == "must_read":
            summaries[p.arxiv_id] = Summary(
                arxiv_id=p.arxiv_id, tier=tier, title_zh="分层缓存的长上下文推理",
                background=LONG, innovation=LONG, details=LONG, results=LONG,
            )  # fmt: skip
        else:
            summaries[p.arxiv_id] = Summary(arxiv_id=p.arxiv_id, tier=tier, one_line="一句话：" + LONG[:60])
    by_id = {p.arxiv_id: p for p in ps}
    common: dict[str, Any] = dict(date=date, categories=["cs.CL", "cs.AI", "cs.LG"], picks=picks,
                                  papers=by_id, summaries=summaries)  # fmt: skip
    record = build_record(scanned=180, run_id="01TESTRUN", critiques=[], calls=[], cost=0.03, currency="CNY",
                          lead="今日主题：长上下文。", **common)  # fmt: skip
    return write_record(record, out, PromptLibrary()).json
