"""Read a reader's library export — BibTeX, CSL-JSON or RIS, as Zotero writes them — into profile papers."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from ribao.arxiv_ids import canonical_id
from ribao.errors import LibraryError
from ribao.profiles.resolve import ProfilePaper

# arXiv ids as exports write them: abs/pdf URLs, "arXiv:2602.15067 [cs]", DOIs 10.48550/arXiv.2602.15067.
_ARXIV = re.compile(r"(?:arxiv\.org/(?:abs|pdf)/|arxiv[:.]\s*)(\d{4}\.\d{4,5}(?:v\d+)?|[a-z-]+/\d{7})", re.I)
_DATE = re.compile(r"(\d{4})(?:[-/](\d{1,2})(?:[-/](\d{1,2}))?)?")
_ENTRY = re.compile(r"^\s*@\s*(\w+)\s*[{(]\s*([^,\s]*)", re.M)
_RIS_LINE = re.compile(r"^[A-Z][A-Z0-9]  -( |$)")


def read_library(path: Path) -> list[ProfilePaper]:
    """Return the papers of a library export (format by extension: .bib, .json, .ris); items without a
    title are skipped. Raises `LibraryError` naming the file (and the line) when missing or malformed."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise LibraryError(f"library {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise LibraryError(f"library {path}: cannot read it: {err}") from None
    suffix = path.suffix.lower()
    if suffix in (".bib", ".bibtex"):
        items = _bibtex(text, path)
    elif suffix in (".json", ".csljson"):
        items = _csl_json(text, path)
    elif suffix in (".ris", ".txt"):
        items = _ris(text, path)
    else:
        raise LibraryError(
            f"library {path}: unknown format {suffix or '(no extension)'}; use .bib, .json or .ris"
        )
    return [p for p in items if p.title]


def arxiv_id_in(*fields: Any) -> str | None:
    """Return the canonical arXiv id found in any of `fields` (strings or lists of strings), else None."""
    for value in fields:
        for text in value if isinstance(value, list) else [value]:
            match = _ARXIV.search(str(text or ""))
            if match:
                return canonical_id(match.group(1))
    return None


def parse_date(*fields: Any) -> dt.date | None:
    """Return the first date in `fields` ("2026-02-20", "2026/02/20/13:15:02", "2026"; a year alone is
    1 January), None when none parses."""
    for value in fields:
        match = _DATE.match(str(value or "").strip())
        if match:
            year, month, day = (int(g) if g else 1 for g in match.groups())
            try:
                return dt.date(year, month, day)
            except ValueError:
                continue
    return None


def _clean(text: Any) -> str:
    return " ".join(str(text or "").replace("{", "").replace("}", "").split())


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _bibtex(text: str, path: Path) -> list[ProfilePaper]:
    import bibtexparser
    from bibtexparser.bparser import BibTexParser

    _check_braces(text, path)
    parser = BibTexParser(common_strings=True, ignore_nonstandard_types=False)
    try:
        entries = bibtexparser.loads(text, parser=parser).entries
    except Exception as err:  # bibtexparser 1.x raises pyparsing's and its own errors alike
        raise LibraryError(f"library {path}: malformed BibTeX: {err}") from None
    # bibtexparser 1.x drops an entry it cannot read without a word: find the first one missing.
    parsed = {e.get("ID") for e in entries}
    for match in _ENTRY.finditer(text):
        kind, key = match.group(1).lower(), match.group(2)
        if kind not in ("comment", "string", "preamble") and key not in parsed:
            line = _line_of(text, match.start())
            raise LibraryError(f"library {path}:{line}: malformed BibTeX entry {key or '(no key)'!r}")
    return [
        ProfilePaper(
            arxiv_id_in(e.get("eprint"), e.get("url"), e.get("doi"), e.get("note"), e.get("journal")),
            _clean(e.get("title")),
            _clean(e.get("abstract")),
            parse_date(e.get("urldate"), e.get("date"), e.get("year")),
        )
        for e in entries
    ]


def _check_braces(text: str, path: Path) -> None:
    """Raise `LibraryError` at the line where an entry's braces close before its fields end, or never do."""
    lines = text.splitlines()
    depth = 0
    for number, line in enumerate(lines, start=1):
        before = depth
        depth += line.count("{") - line.count("}")
        rest = next((x.strip() for x in lines[number:] if x.strip()), "@")
        if depth < 0 or (before > 0 and depth == 0 and not rest.startswith("@")):
            raise LibraryError(f"library {path}:{number}: unbalanced braces in a BibTeX entry")
    if depth > 0:
        raise LibraryError(f"library {path}:{len(lines)}: unbalanced braces (a '{{' is never closed)")


def _csl_json(text: str, path: Path) -> list[ProfilePaper]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise LibraryError(f"library {path}:{err.lineno}: malformed CSL-JSON: {err.msg}") from None
    if isinstance(data, dict):
        data = data.get("items", [data])
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise LibraryError(f"library {path}:1: CSL-JSON must be a list of items")

    def date(field: Any) -> dt.date | None:
        parts = (field or {}).get("date-parts", [[]])[0] if isinstance(field, dict) else []
        return parse_date("-".join(str(p) for p in parts)) if parts else None

    return [
        ProfilePaper(
            arxiv_id_in(item.get("number"), item.get("URL"), item.get("DOI"), item.get("note")),
            _clean(item.get("title")),
            _clean(item.get("abstract")),
            date(item.get("accessed")) or date(item.get("issued")),
        )
        for item in data
    ]


def _ris(text: str, path: Path) -> list[ProfilePaper]:
    import rispy

    for number, line in enumerate(text.splitlines(), start=1):
        # Every line of an export is "XY  - value"; rispy would drop any other line without a word.
        if line.strip() and not _RIS_LINE.match(line):
            raise LibraryError(f"library {path}:{number}: not an RIS tag line (expected 'XY  - value')")
    if "TY  -" not in text:
        raise LibraryError(f"library {path}:1: no RIS record (no 'TY  - ' line)")
    try:
        entries = rispy.loads(text)
    except (OSError, ValueError) as err:
        at = re.search(r"line (\d+)", str(err))
        where = f":{at.group(1)}" if at else ""
        raise LibraryError(f"library {path}{where}: malformed RIS: {err}") from None
    return [
        ProfilePaper(
            arxiv_id_in(e.get("urls"), e.get("doi"), e.get("notes"), e.get("url")),
            _clean(e.get("title") or e.get("primary_title")),
            _clean(e.get("abstract")),
            parse_date(e.get("access_date"), e.get("date"), e.get("year")),
        )
        for e in entries
    ]
