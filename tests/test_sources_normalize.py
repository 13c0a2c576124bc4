"""Canonical ids, whitespace, LaTeX rendering and code links (ribao.sources.normalize)."""

from __future__ import annotations

import re

import pytest

from ribao.arxiv_ids import split_id
from ribao.sources.normalize import (
    extract_code_url,
    latex_to_text,
    one_line,
    paragraphs,
    title_display,
)
from tests.support.links import (
    CLEAN_URL,
    LINKS,
    NO_REPOSITORY,
    expected_code_url,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2602.15799v1", ("2602.15799", 1)),
        ("2602.15763", ("2602.15763", None)),
        ("http://arxiv.org/abs/hep-ph/0301050v2", ("hep-ph/0301050", 2)),
        ("https://arxiv.org/abs/2104.12255v1", ("2104.12255", 1)),
        ("arXiv:2602.15763v12", ("2602.15763", 12)),
        ("https://arxiv.org/pdf/2602.15799v3.pdf", ("2602.15799", 3)),
        ("cs/0503050v1", ("cs/0503050", 1)),
        ("math.GT/0309136", ("math.GT/0309136", None)),
        ("0704.0001", ("0704.0001", None)),
        ("  2306.17652  ", ("2306.17652", None)),
    ],
)
def test_split_id_gives_canonical_id_and_version(raw: str, expected: tuple[str, int | None]) -> None:
    assert split_id(raw) == expected


@pytest.mark.parametrize(
    "raw", ["abc", "", "https://arxiv.org/api/errors#incorrect_id_format_for_abc", "12345.678"]
)
def test_split_id_rejects_non_ids(raw: str) -> None:
    with pytest.raises(ValueError, match="not an arXiv id"):
        split_id(raw)


def test_one_line_collapses_wrapped_title() -> None:
    wrapped = "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large\n  Connectivity Limit"
    assert one_line(wrapped) == (
        "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )


def test_paragraphs_keeps_arxiv_paragraph_breaks_and_joins_hard_wraps() -> None:
    text = "  First line of a\nwrapped paragraph.\n  Second\tparagraph  here.\n"
    assert paragraphs(text) == "First line of a wrapped paragraph.\nSecond paragraph here."


def test_mojibake_from_latin1_decoding_is_repaired() -> None:
    # The arXiv.py fixture stores UTF-8 "ω" decoded as Latin-1: "Ï" plus the C1 control U+0089.
    assert one_line("$\u00cf\u0089$Test: WebView") == "$ω$Test: WebView"
    assert one_line("caf\u00e9 \u0085x") == "café x"


@pytest.mark.parametrize(
    ("latex", "expected"),
    [
        ("$\\omega$Test", "ωTest"),
        ("improves accuracy by 20% on Q&A", "improves accuracy by 20% on Q&A"),
        ("\\emph{a posteriori} bounds", "a posteriori bounds"),
        ("$x \\leq 3$ and $\\alpha_1$", "x ≤ 3 and α_1"),
        ("code \\href{https://github.com/a/b}{here}", "code here <https://github.com/a/b>"),
        ("the \\texttt{foo} tool", "the foo tool"),
        ("plain text stays as it is", "plain text stays as it is"),
    ],
)
def test_latex_to_text_renders_common_markup(latex: str, expected: str) -> None:
    assert one_line(latex_to_text(latex)) == expected


@pytest.mark.parametrize(
    "odd", ["\\href{only-one-argument}", "\\frac{a}", "}{\\\\$$^_&%~", "$\\begin{x", "\\\\" * 50]
)
def test_latex_to_text_never_raises_and_falls_back(odd: str) -> None:
    rendered = latex_to_text(odd)
    assert isinstance(rendered, str)


def test_latex_to_text_returns_raw_text_when_pylatexenc_fails() -> None:
    # pylatexenc raises AttributeError inside \href when its second argument is missing.
    assert latex_to_text("see \\href{https://x.org}") == "see \\href{https://x.org}"


def test_display_helpers_render_and_normalise() -> None:
    assert title_display("$\\mathcal{O}(n)$\n  Attention") == "𝒪(n) Attention"


@pytest.mark.parametrize("case", LINKS, ids=[f"{c['id']}-{c['field']}" for c in LINKS])
def test_every_sample_github_token_gives_a_clean_repository_url(case: dict) -> None:
    raw = case["raw"]
    url = extract_code_url(raw, None)
    assert url == expected_code_url(raw)
    if raw in NO_REPOSITORY:
        assert url is None
        return
    assert url is not None, raw
    match = CLEAN_URL.fullmatch(url)
    assert match, url
    owner_repo = f"{match['owner']}/{match['repo']}"
    start = raw.find(owner_repo)
    assert start >= 0, (raw, url)
    # The repository name is complete: what follows it in the token is not part of a name.
    rest = raw[start + len(owner_repo) :]
    assert not re.match(r"[A-Za-z0-9_-]|\.[A-Za-z0-9_-]", rest) or rest.lower().startswith(".git"), (raw, url)
    # The surrounding sentence gives the same link as the bare token.
    assert extract_code_url(case["context"], None) == url


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The README's "real cases worth testing".
        ("available at https://github.com/zai-org/GLM-5.", "https://github.com/zai-org/GLM-5"),
        (
            "data available at \\url{https://github.com/sheishijun/Hydro-SE-Bench}",
            "https://github.com/sheishijun/Hydro-SE-Bench",
        ),
        (
            "We release our \\href{https://github.com/AtlasAnalyticsLab/FisherAdapTune}{code} publicly",
            "https://github.com/AtlasAnalyticsLab/FisherAdapTune",
        ),
        (
            "at: \\href{https://anonymous.4open.science/r/SwiftCTS-7E6E}{https://github.com/BarsatKhadka/SwiftCTS}",
            "https://github.com/BarsatKhadka/SwiftCTS",
        ),
        (
            "Code: [](https://github.com/prdeepakbabu/maple-framework)<https://github.com/prdeepakbabu/maple-framework>",
            "https://github.com/prdeepakbabu/maple-framework",
        ),
        (
            "Dataset is available at this link-https: //github.com/naturenurtureelite/ADVOSYNTH-500.",
            "https://github.com/naturenurtureelite/ADVOSYNTH-500",
        ),
        ("Code and results will be available on github.com.", None),
        (
            "Agentic Tool (https://github.com/PrachuryyaKaushik/AWED-FiNER), Web Application (https://hf.co/x)",
            "https://github.com/PrachuryyaKaushik/AWED-FiNER",
        ),
        # More shapes seen in the sample days.
        ("at https://github.com/LabRAI/Rulers.git.", "https://github.com/LabRAI/Rulers"),
        (
            "at https://github.com/Emmakast/PhysMetrics.Weather.",
            "https://github.com/Emmakast/PhysMetrics.Weather",
        ),
        (
            "see https://github.com/Tencent-Hunyuan/UniRL/tree/main/FlowDPPO.",
            "https://github.com/Tencent-Hunyuan/UniRL",
        ),
        ("see https://github.com/Simula/HEDGE#videohedge", "https://github.com/Simula/HEDGE"),
        ("code https://www.github.com/urmzd/linear-gp", "https://github.com/urmzd/linear-gp"),
        ("code: github.com/pth2002/ConvMemory", "https://github.com/pth2002/ConvMemory"),
        ("code: http://GitHub.com/Owner/Repo_1;", "https://github.com/Owner/Repo_1"),
        ("\\url{https://github.com/foo/bar\\_baz}", "https://github.com/foo/bar_baz"),
        ("Code is available at https://github.com/ncsu-dk-lab.", None),
        ("see https://gist.github.com/someone/abcdef and notgithub.com/a/b", None),
        ("see https://github.com/orgs/openai/repositories", None),
        ("our page https://smart-mapf.github.io/lifelong-smart.", None),
    ],
)
def test_extract_code_url_real_cases(text: str, expected: str | None) -> None:
    assert extract_code_url(text, None) == expected


def test_extract_code_url_prefers_abstract_then_comment() -> None:
    abstract = "Our code: https://github.com/a/abstract-repo."
    comment = "Accepted at X. https://github.com/c/comment-repo"
    assert extract_code_url(abstract, comment) == "https://github.com/a/abstract-repo"
    assert extract_code_url("No link here.", comment) == "https://github.com/c/comment-repo"
    assert (
        extract_code_url("Code: https://github.com/someone.", comment) == "https://github.com/c/comment-repo"
    )
    assert extract_code_url(None, None) is None
