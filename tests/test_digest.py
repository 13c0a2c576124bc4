"""The page: house format, continuous numbering, safe titles, clean links, honest counts."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ribao.digest import md_inline, render_markdown, write_record
from ribao.prompts import PromptLibrary
from ribao.record import DigestUsage, authors_short
from tests.support.papers import (
    cells,
    paper,
    record_of,
    render,
)


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
