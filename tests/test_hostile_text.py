"""Hostile paper text: escaped wherever shown, invisible characters removed, errors that name the line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ribao.digest import build_record, render_markdown
from ribao.errors import ListingError
from ribao.prompts import PromptLibrary
from ribao.sources.files import read_file
from ribao.sources.normalize import latex_to_text
from ribao.sources.text import clean, html_text, md_code, md_inline
from tests.support.papers import DAY, paper, pick, record_of, summary

BIDI = "\u202e"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"


def record(**over: object) -> dict[str, object]:
    base: dict[str, object] = {"id": "2602.15001v1", "title": "A title", "authors": ["A B"],
            "abstract": "An abstract.", "categories": ["cs.CL"], "announced": "2026-02-18"}  # fmt: skip
    return {**base, **over}


def write_jsonl(tmp_path: Path, lines: list[str], raw: bytes | None = None) -> Path:
    path = tmp_path / "day.jsonl"
    path.write_bytes(raw if raw is not None else "\n".join(lines).encode("utf-8"))
    return path


def read(path: Path) -> list:
    return read_file(path, ["cs.CL"]).papers


def test_control_bidi_and_zero_width_characters_never_survive_reading(tmp_path: Path) -> None:
    title = f"Safe{BIDI}txet.exe{ZERO_WIDTH} and\x07 bell\x1b[31m red"
    line = json.dumps(record(title=title, authors=[f"Eve{BIDI} Evil", "\u200b"], abstract=f"x{ZERO_WIDTH}y"))
    [p] = read(write_jsonl(tmp_path, [line]))
    for text in (p.title, p.title_display, *p.authors, p.abstract):
        assert not any(ch in text for ch in BIDI + ZERO_WIDTH + "\x07\x1b")
    assert p.authors == ["Eve Evil"]
    assert p.abstract == "xy"


def test_a_lone_surrogate_is_replaced_not_a_traceback(tmp_path: Path) -> None:
    line = json.dumps(record(title="Bad @ title")).replace("@", "\\ud800")  # a valid JSON escape
    [p] = read(write_jsonl(tmp_path, [line]))
    assert p.title == "Bad \ufffd title"
    p.title.encode("utf-8")  # writable to the page and the JSON


def test_html_entities_show_the_same_on_the_page_and_in_the_json(tmp_path: Path) -> None:
    line = json.dumps(record(title="Q&amp;A &lt;b&gt;bold&lt;/b&gt; &#x27;quotes&#x27;"))
    [p] = read(write_jsonl(tmp_path, [line]))
    assert p.title_display == "Q&A <b>bold</b> 'quotes'"
    page = render([p], tmp_path)
    assert "<b>" not in page and r"Q\&A \<b\>bold\</b\>" in page


@pytest.mark.parametrize(
    ("plain", "shown"),
    [
        ("Training under $5 per run", "Training under $5 per run"),
        ("costs $5 and $10", "costs $5 and $10"),
        ("approx ~5% faster", "approx ~5% faster"),
        (r"a \| b", r"a \| b"),
        ("a $x^2$ law", "a x^2 law"),
        ("Fig.~3", "Fig. 3"),
        ("correlations $>$0.96", "correlations >0.96"),
    ],
)
def test_latex_rendering_does_not_eat_dollars_tildes_or_bars(plain: str, shown: str) -> None:
    assert latex_to_text(plain) == shown


def test_json_keeps_the_original_title_beside_the_displayed_one() -> None:
    p = paper(1, title=r"The $\alpha$ model", title_display="The α model")
    record_ = build_record(date=DAY, run_id="r", scanned=1, categories=["cs.CL"], picks=[pick(p, 1)],
                            papers={p.arxiv_id: p}, summaries={p.arxiv_id: summary(p, "must_read")},
                            critiques=[], calls=[], cost=None, currency="CNY", lead=None)  # fmt: skip
    [out] = json.loads(record_.to_json())["picks"]
    assert out["title"] == "The α model" and out["title_original"] == r"The $\alpha$ model"


def test_an_empty_title_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path, [json.dumps(record()), json.dumps(record(id="2602.15002v1", title=f" {ZERO_WIDTH} "))]
    )
    with pytest.raises(ListingError, match=r"day\.jsonl:2: .*empty title"):
        read(path)


def test_jsonl_line_numbers_count_every_physical_line(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path, ["", "", json.dumps(record()), "", "{broken"])
    with pytest.raises(ListingError, match=r"day\.jsonl:5: not a JSON object"):
        read(path)
    # A Unicode line separator inside a string is not a line break.
    path = write_jsonl(tmp_path, [json.dumps(record(title="a\u2028b"), ensure_ascii=False), "{broken"])
    with pytest.raises(ListingError, match=r"day\.jsonl:2:"):
        read(path)


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    good = json.dumps(record()).encode()
    path = write_jsonl(tmp_path, [], raw=good + b"\n" + good.replace(b"A title", b"A \xff title"))
    with pytest.raises(ListingError, match=r"day\.jsonl:2: not UTF-8 text") as caught:
        read(path)
    assert "\n" not in str(caught.value)


def render(papers: list, tmp_path: Path) -> str:
    return render_markdown(record_of(papers, must=1, scanned=1), PromptLibrary(user_dir=tmp_path / "none"))


def test_a_hostile_category_cannot_break_the_table_or_let_html_through(tmp_path: Path) -> None:
    evil = "cs.CL|`<img src=x onerror=alert(1)>`"
    papers = [paper(1), paper(2, primary_category=evil, categories=[evil])]
    page = render(papers, tmp_path)
    [row] = [line for line in page.splitlines() if line.startswith("| 2 |")]
    assert row.count("|") - row.count(r"\|") == 4  # still four cell borders
    assert re.search(r"(?<!\\)<img", page) is None  # only ever escaped
    assert md_code("cs.LG (机器学习)") == "`cs.LG (机器学习)`"


def test_every_real_category_name_is_shown_as_a_code_span() -> None:
    # "cs.DC (分布式、并行与集群计算)" once lost its backticks to the 、 in its Chinese name
    from ribao.sources.categories import CATEGORY_NAMES_ZH

    for code, name in CATEGORY_NAMES_ZH.items():
        shown = f"{code} ({name})"
        assert md_code(shown) == f"`{shown}`", shown


def test_every_escaper_cleans_first() -> None:
    hostile = f"a{BIDI}b\x00c<script>&amp;"
    assert md_inline(hostile) == r"abc\<script\>\&"
    assert html_text(hostile) == "abc&lt;script&gt;&amp;"
    assert clean("\ud800") == "\ufffd"
