"""Full text through a loopback arXiv: HTML → PDF → e-print → abstract, each fault a fallback, the cache."""

from __future__ import annotations

import datetime as dt
import gzip
import os
from pathlib import Path
from typing import Any

from ribao.fulltext.options import FulltextOptions
from ribao.fulltext.reader import FulltextReader
from ribao.schemas import Paper
from tests.support.fulltext_server import DATA, FulltextServer, tar_gz, unflatten

DAY = dt.date(2025, 1, 21)


def paper(arxiv_id: str, version: int | None = 1) -> Paper:
    return Paper(
        arxiv_id=arxiv_id,
        version=version,
        title="t",
        title_display="t",
        abstract="a",
        primary_category="cs.CL",
    )


def read(
    server: FulltextServer, home: Path, arxiv_id: str, extract: Any = None, **opts: object
) -> tuple[object, list[str]]:
    lines: list[str] = []
    options = FulltextOptions(**server.options(**opts))
    kw = {"extract": extract} if extract else {}
    reader = FulltextReader(options, home / "cache" / "fulltext", DAY, **kw)
    return reader.read(paper(arxiv_id), lines.append), lines


def test_html_is_read_first_into_sections(fulltext_server: FulltextServer, tmp_path: Path) -> None:
    text, lines = read(fulltext_server, tmp_path, "2501.11120")
    assert text.used == "html" and text.fallbacks == []
    headings = [s.heading for s in text.sections]
    assert headings[:3] == ["Abstract", "1 Introduction", "2 Out-of-context reasoning"]
    assert "8 Conclusion" in headings and not any("Reference" in h for h in headings)
    assert fulltext_server.hits == ["/html/2501.11120v1"]
    assert (tmp_path / "cache/fulltext/2025-01-21/2501.11120v1.html").is_file()


def test_no_html_falls_back_to_the_pdf_loudly(fulltext_server: FulltextServer, tmp_path: Path) -> None:
    text, lines = read(fulltext_server, tmp_path, "2501.10120")
    assert text.used == "pdf"
    assert [f.kind for f in text.fallbacks] == ["html"] and "HTTP 404" in text.fallbacks[0].error
    assert any("arXiv HTML failed" in line and "trying arXiv PDF" in line for line in lines)
    assert "4 Methodology" in [s.heading for s in text.sections]


def test_corrupt_pdf_falls_back_to_latex_with_inputs_resolved(
    fulltext_server: FulltextServer, tmp_path: Path
) -> None:
    fulltext_server.routes["/pdf/2004.14974v1"] = b"%PDF-1.5\n" + os.urandom(4000)
    text, lines = read(fulltext_server, tmp_path, "2004.14974")
    assert text.used == "latex"
    assert [f.kind for f in text.fallbacks] == ["html", "pdf"]
    assert "pdf extraction failed" in text.fallbacks[1].error
    headings = [s.heading for s in text.sections]
    # These sections live in \input files (05-model.tex, 06-experiments.tex), not in the toplevel file.
    assert any("Baseline model" in h for h in headings) and "Experiments" in headings
    body = " ".join(s.text for s in text.sections)
    assert "SciFact" in body  # the \ours macro, expanded


def test_oversized_pdf_and_a_silent_server_fall_back(fulltext_server: FulltextServer, tmp_path: Path) -> None:
    fulltext_server.routes["/html/2004.14974v1"] = {"hang": 3}
    fulltext_server.routes["/pdf/2004.14974v1"] = {"length": 10**9}
    text, _ = read(fulltext_server, tmp_path, "2004.14974", timeout_seconds=0.5, max_bytes=5_000_000)
    assert text.used == "latex"
    errors = [f.error for f in text.fallbacks]
    assert "no answer within 0.5 s" in errors[0]
    assert "over the size cap" in errors[1]


def test_every_source_failing_leaves_the_abstract(fulltext_server: FulltextServer, tmp_path: Path) -> None:
    fulltext_server.routes["/e-print/2501.99999v1"] = {"status": 503}
    text, lines = read(fulltext_server, tmp_path, "2501.99999")
    assert text.used == "abstract" and text.sections == []
    assert [f.kind for f in text.fallbacks] == ["html", "pdf", "latex"]
    assert "HTTP 503" in text.fallbacks[2].error
    assert lines[-1] == "2501.99999: no full text; the writer uses the abstract"


def test_hostile_archives_write_nothing_outside_the_cache(
    fulltext_server: FulltextServer, tmp_path: Path
) -> None:
    files = unflatten((DATA / "2004.14974.tex").read_text(encoding="utf-8"))
    files["../escape.tex"] = b"\\section{Evil} climbed out"
    files["/tmp/ribao-absolute-escape.tex"] = b"absolute"
    fulltext_server.routes["/e-print/2004.14974v1"] = tar_gz(files, links={"link.tex": "/etc/passwd"})
    home = tmp_path / "home"
    text, lines = read(fulltext_server, home, "2004.14974")
    assert text.used == "latex"
    skipped = [line for line in lines if "member skipped" in line]
    assert len(skipped) == 3 and any("link" in s for s in skipped)
    assert not (tmp_path / "escape.tex").exists() and not Path("/tmp/ribao-absolute-escape.tex").exists()
    written = {p.relative_to(home) for p in home.rglob("*") if p.is_file()}
    assert all(str(p).startswith("cache/fulltext/2025-01-21/") for p in written)
    assert "passwd" not in " ".join(s.text for s in text.sections)


def test_decompression_bomb_is_refused(fulltext_server: FulltextServer, tmp_path: Path) -> None:
    fulltext_server.routes["/e-print/2004.14974v1"] = gzip.compress(b"\0" * 30_000_000)
    text, _ = read(fulltext_server, tmp_path, "2004.14974", max_unpacked_bytes=1_000_000)
    assert text.used == "abstract"
    assert "decompression bomb" in text.fallbacks[-1].error


def test_extraction_past_its_deadline_is_killed(fulltext_server: FulltextServer, tmp_path: Path) -> None:
    text, _ = read(fulltext_server, tmp_path, "2501.11120", extract_seconds=0.01)
    assert text.fallbacks[0].kind == "html" and "deadline" in text.fallbacks[0].error


def test_a_rerun_reads_the_cache_without_fetching_or_extracting(
    fulltext_server: FulltextServer, tmp_path: Path
) -> None:
    first, _ = read(fulltext_server, tmp_path, "2501.10120")
    hits = list(fulltext_server.hits)

    def no_extraction(*args: object, **kw: object) -> None:
        raise AssertionError("extracted again")

    again, lines = read(fulltext_server, tmp_path, "2501.10120", extract=no_extraction)
    assert again == first and fulltext_server.hits == hits
    assert lines == ["2501.10120: pdf from the cache (13 sections)"]
