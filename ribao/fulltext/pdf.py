"""Extract sections from a PDF with pypdf: text per page, numbered headings found, lines re-joined."""

from __future__ import annotations

import io
import re
import statistics

from ribao.fulltext.document import Section

_NUMBERED = re.compile(r"^(?P<num>\d{1,2}|[A-H])(?P<sub>(?:\.\d{1,2})*)\.?\s+(?P<title>[A-Z][^\n]{1,80})$")
_NAMED = re.compile(
    r"^(?:abstract|introduction|references|bibliography|acknowledge?ments?|appendix|appendices"
    r"|conclusions?|related work|discussion|methods?|experiments?|results)$",
    re.I,
)
_STAMP = re.compile(r"^arXiv:\d{4}\.\d{4,5}(?:v\d+)?\s*\[")
_PAGE_NUMBER = re.compile(r"^\s*\d{1,3}\s*$")
_REFERENCES = re.compile(r"^(?:references|bibliography)$", re.I)


def _is_title(title: str) -> bool:
    words = title.split()
    # A trailing page number marks a table-of-contents line, not the heading itself.
    if len(words) > 10 or re.search(r"[.,;:]$|\.\s|\s\d+$", title):
        return False
    capitals = sum(1 for w in words if w[:1].isupper() or not w[:1].isalpha())
    return capitals >= max(1, len(words) // 2)


class _Headings:
    """Accept headings in sequence (1, 2, 3 …, then A, B … for appendices); reject look-alikes."""

    def __init__(self) -> None:
        self.top = 0
        self.letter = "@"

    def classify(self, line: str) -> tuple[str, bool] | None:
        """Return (heading, top-level?) when `line` is the next heading, else None."""
        if _NAMED.match(line.strip()):
            return line.strip(), True
        m = _NUMBERED.match(line.strip())
        if not m or not _is_title(m.group("title")):
            return None
        num, sub = m.group("num"), m.group("sub")
        if num.isdigit():
            n = int(num)
            if not sub and n == self.top + 1:
                self.top = n
                return line.strip(), True
            if sub and n == self.top:
                return line.strip(), False
            return None
        if not sub and ord(num) == ord(self.letter) + 1 and self.top >= 2:
            self.letter = num
            return line.strip(), True
        if sub and num == self.letter:
            return line.strip(), False
        return None


def _paragraphs(lines: list[str]) -> str:
    """Re-join wrapped lines (de-hyphenated) into paragraphs; a short line ending a sentence ends one."""
    if not lines:
        return ""
    width = statistics.median(len(x) for x in lines) if lines else 0
    out: list[str] = []
    current = ""
    for line in lines:
        if current.endswith("-") and line[:1].islower():
            current = current[:-1] + line
        else:
            current = f"{current} {line}" if current else line
        if len(line) < 0.7 * width and re.search(r"[.!?:]$", line):
            out.append(current)
            current = ""
    if current:
        out.append(current)
    return "\n\n".join(out)


def extract_pdf(data: bytes) -> list[Section]:
    """Return the sections of a paper PDF: text before the first heading is ``Front matter``; the
    References section is dropped; subsection headings stay as ``## …`` lines.

    Raises `ValueError` when the file is not a PDF or yields no text (scanned pages, corrupt file).
    """
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise ValueError("not a PDF (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"corrupt PDF: {type(exc).__name__}: {exc}") from exc
    lines = [
        x.strip()
        for page in pages
        for x in page.splitlines()
        if x.strip() and not _STAMP.match(x.strip()) and not _PAGE_NUMBER.match(x)
    ]
    if sum(len(x) for x in lines) < 500:
        raise ValueError("the PDF has (almost) no extractable text")
    headings = _Headings()
    sections: list[tuple[str, list[str]]] = [("Front matter", [])]
    for line in lines:
        found = headings.classify(line)
        if found is None:
            sections[-1][1].append(line)
        elif found[1]:
            sections.append((found[0], []))
        else:
            sections[-1][1].append(f"\n## {found[0]}\n")
    result = []
    for heading, body in sections:
        if _REFERENCES.match(heading):
            continue
        chunks = "\n".join(body).split("\n## ")
        text = _paragraphs([x for x in chunks[0].splitlines() if x.strip()])
        for chunk in chunks[1:]:
            title, _, rest = chunk.partition("\n")
            text += f"\n\n## {title.strip()}\n\n" + _paragraphs([x for x in rest.splitlines() if x.strip()])
        if text.strip():
            result.append(Section(heading=heading, text=text.strip()))
    return result
