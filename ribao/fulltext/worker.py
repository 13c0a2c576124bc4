"""The extraction subprocess: ``python -m ribao.fulltext.worker KIND PATH LIMIT`` prints sections as JSON.

Run by `sandbox.extract_in_subprocess` under a deadline and a memory limit, so a hostile or broken
file (a decompression bomb, a PDF that makes the parser loop) cannot take the run down with it.
Exit status 0 with ``{"sections": [...], "hidden": n, "skipped": [...]}`` on stdout, or 2 with a
one-line reason on stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ribao.fulltext.document import Section


def extract(kind: str, data: bytes, limit: int) -> tuple[list[Section], int, list[str]]:
    """Return (sections, hidden elements dropped, archive members skipped) for one raw file."""
    if kind == "html":
        from ribao.fulltext.html import extract_html

        sections, hidden = extract_html(data)
        return sections, hidden, []
    if kind == "pdf":
        from ribao.fulltext.pdf import extract_pdf

        return extract_pdf(data), 0, []
    if kind == "latex":
        from ribao.fulltext.latex import extract_latex

        sections, skipped = extract_latex(data, limit=limit)
        return sections, 0, skipped
    raise ValueError(f"unknown full-text kind {kind!r}")


def main(argv: list[str]) -> int:
    kind, path, limit = argv[0], Path(argv[1]), int(argv[2])
    try:
        sections, hidden, skipped = extract(kind, path.read_bytes(), limit)
    except (ValueError, OSError, RecursionError) as exc:
        print(f"{type(exc).__name__}: {exc}"[:500], file=sys.stderr)
        return 2
    json.dump(
        {"sections": [s.model_dump() for s in sections], "hidden": hidden, "skipped": skipped},
        sys.stdout,
        ensure_ascii=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
