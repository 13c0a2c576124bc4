"""The page: house format, continuous numbering, safe titles, clean links, honest counts."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

from ribao.digest import build_record, md_inline, render_markdown, write_record
from ribao.prompts import PromptLibrary
from ribao.record import DigestRecord, DigestUsage, authors_short
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


def test_house_format_header_numbering_and_footer(tmp_path: Path) -> None:
    papers = [paper(i) for i in range(13)]
    md = render(papers, tmp_path)
    assert md.startswith("# 🧪 ArXiv AI 日报\n\n📅 **2026-02-18 周三** | 🤖 扫描/精选: **180/13**")
    assert "> 📊 Tokens: **92,254** (¥0.0300)" in md
    assert [int(n) for n in re.findall(r"^### (\d+)\. ", md, flags=re.M)] == [1, 2, 3]
    rows = [line for line in md.splitlines() if re.match(r"^\| \d+ \|", line)]
    assert [int(cells(r)[0]) for r in rows] == list(range(4, 14))
    assert "🏷️ `cs.CL (计算语言学)` | 📄 [arXiv](https://arxiv.org/abs/2602.15000)" in md
    assert "👤 A One, B Two, C Three 等" in md
    for label in ("中文标题", "背景与痛点", "核心创新", "技术细节", "实验结果"):
        assert f"**{label}**: " in md
    assert md.rstrip().endswith("🧪 ArXiv Daily Digest | 扫描 cs.CL / cs.AI / cs.LG | 2026-02-18 | run RUN")


def test_titles_with_pipes_newlines_and_markdown_cannot_break_the_page(tmp_path: Path) -> None:
    nasty = "Attack | Defense:\n  a *bold* [link](http://x) `code` <b>html</b> _under_ #1"
    papers = [paper(0, nasty)] + [paper(i) for i in range(1, 3)] + [paper(3, nasty)]
    md = render(papers, tmp_path)
    heading = next(line for line in md.splitlines() if line.startswith("### 1. "))
    assert heading == (
        r"### 1. Attack \| Defense: a \*bold\* \[link\](http://x) \`code\` \<b\>html\</b\> \_under\_ \#1"
    )
    row = next(line for line in md.splitlines() if line.startswith("| 4 |"))
    assert len(cells(row)) == 3
    assert cells(row)[2] == r"一句话 \| 带竖线"


def test_code_link_only_when_the_paper_names_one(tmp_path: Path) -> None:
    papers = [paper(0, code_url="https://github.com/zai-org/GLM-5"), paper(1), paper(2),
              paper(3, code_url="https://github.com/a/b")]  # fmt: skip
    md = render(papers, tmp_path)
    assert "💻 [GitHub](https://github.com/zai-org/GLM-5)" in md
    assert md.count("💻") == 2 and "[💻](https://github.com/a/b)" in md


def test_helpers() -> None:
    assert authors_short(["GLM-5 Team", ":", "Aohan Zeng", "X Y"]) == "GLM-5 Team, Aohan Zeng, X Y"
    assert authors_short(["A", "B", "C", "D", "E"]) == "A, B, C 等"
    assert authors_short(["A"]) == "A"
    assert DigestUsage(cost=None, currency="USD").cost_text == "cost unknown"
    assert DigestUsage(cost=0.03, currency="CNY").cost_text == "¥0.0300"
    assert md_inline("a\n\nb  c") == "a b c"


def test_outputs_are_written_together(tmp_path: Path) -> None:
    record = record_of([paper(i) for i in range(4)])
    paths = write_record(record, tmp_path / "out", PromptLibrary(user_dir=None))
    assert paths.markdown.read_text(encoding="utf-8") == render_markdown(record, PromptLibrary(user_dir=None))
    assert json.loads(paths.json.read_text(encoding="utf-8"))["date"] == "2026-02-18"
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["2026-02-18.html", "2026-02-18.json", "2026-02-18.md"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert paths.markdown.stat().st_mode & 0o777 == 0o666 & ~umask  # shareable, not mkstemp's 0600


def test_stars_beside_code_links_when_known(tmp_path: Path) -> None:
    papers = [
        paper(0, code_url="https://github.com/zai-org/GLM-5"),
        paper(1, code_url="https://github.com/a/b"),
    ]
    stars = {"https://github.com/zai-org/GLM-5": 1052, "https://github.com/a/b": None}
    md = render_markdown(record_of(papers, scanned=2, stars=stars), PromptLibrary(user_dir=None))
    assert "💻 [GitHub](https://github.com/zai-org/GLM-5) ⭐1052" in md
    assert "💻 [GitHub](https://github.com/a/b)\n" in md
