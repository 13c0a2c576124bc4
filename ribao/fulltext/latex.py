"""Extract sections from an arXiv LaTeX e-print with pylatexenc: main file found, \\input resolved."""

from __future__ import annotations

import json
import posixpath
import re

from ribao.fulltext.archive import ArchiveError
from ribao.fulltext.document import Section

_COMMENT = re.compile(r"(?<!\\)%.*")
_INPUT = re.compile(r"\\(?:input|include|subfile)\s*(?:\{([^}]+)\}|\s([^\s{}\\]+))")
_NEWCOMMAND = re.compile(r"\\(?:re)?newcommand\*?\s*\{?\\([A-Za-z]+)\}?\s*\{((?:[^{}]|\{[^{}]*\})*)\}")
_DEF = re.compile(r"\\def\\([A-Za-z]+)\s*\{((?:[^{}]|\{[^{}]*\})*)\}")
_SECTION = re.compile(r"\\section\*?\s*(?:\[[^\]]*\])?\s*\{((?:[^{}]|\{[^{}]*\})*)\}")
_ABSTRACT = re.compile(r"\\begin\{abstract\}(.*?)\\end\{abstract\}", re.S)
_BIBLIOGRAPHY = re.compile(
    r"\\begin\{thebibliography\}.*?\\end\{thebibliography\}|\\bibliography\{[^}]*\}|\\bibliographystyle\{[^}]*\}",
    re.S,
)
_MAX_DEPTH = 10


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def find_main(files: dict[str, bytes]) -> str:
    """Return the path of the toplevel .tex file: arXiv's 00README.json names it, else the file with
    ``\\documentclass`` and ``\\begin{document}`` (the largest if several). Raises `ArchiveError`."""
    readme = files.get("00README.json")
    if readme:
        try:
            for source in json.loads(readme).get("sources", []):
                if source.get("usage") == "toplevel" and source.get("filename") in files:
                    return str(source["filename"])
        except (ValueError, AttributeError):
            pass
    tex = {name: _decode(data) for name, data in files.items() if name.lower().endswith((".tex", ".ltx"))}
    if not tex and "main.tex" in files:
        tex = {"main.tex": _decode(files["main.tex"])}
    mains = [n for n, t in tex.items() if "\\documentclass" in t and "\\begin{document}" in t]
    if not mains:
        raise ArchiveError("no toplevel .tex file (none has \\documentclass and \\begin{document})")
    return max(mains, key=lambda n: len(tex[n]))


def resolve_inputs(files: dict[str, bytes], name: str, depth: int = 0) -> str:
    """Return file `name` with comments stripped and every \\input/\\include replaced by its file
    (looked up inside the archive only, ``.tex`` added when missing; a missing file is dropped)."""
    text = _COMMENT.sub("", _decode(files[name]))
    if depth >= _MAX_DEPTH:
        return text
    base = posixpath.dirname(name)

    def inline(m: re.Match[str]) -> str:
        target = (m.group(1) or m.group(2) or "").strip()
        for candidate in (target, f"{target}.tex"):
            for path in (posixpath.normpath(candidate), posixpath.normpath(posixpath.join(base, candidate))):
                if path in files and not path.startswith(".."):
                    return resolve_inputs(files, path, depth + 1)
        return ""

    return _INPUT.sub(inline, text)


def _expand_macros(text: str) -> str:
    """Expand argument-free \\newcommand/\\def macros (e.g. ``\\ours``) that pylatexenc would drop."""
    macros = {m.group(1): m.group(2) for rx in (_NEWCOMMAND, _DEF) for m in rx.finditer(text)}
    macros = {k: v.replace("\\xspace", " ") for k, v in macros.items() if "#" not in v}
    if not macros:
        return text
    pattern = re.compile(
        r"\\(" + "|".join(sorted(map(re.escape, macros), key=len, reverse=True)) + r")(?![A-Za-z])"
    )
    for _ in range(3):  # macros defined through other macros
        text = pattern.sub(lambda m: macros[m.group(1)].replace("\\", "\\\\").replace("\\\\", "\\"), text)
    return text


def _to_text(latex: str) -> str:
    from pylatexenc.latex2text import LatexNodes2Text

    text = LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=False).latex_to_text(latex)
    text = text.replace("< g r a p h i c s >", "")
    text = re.sub(r"^\s*§\.§(?:\.§)?\s*(.+)$", r"## \1", text, flags=re.M)
    text = re.sub(r"[ \t]+", " ", text)
    return re.sub(r"\n\s*\n\s*", "\n\n", text).strip()


def extract_latex(data: bytes, *, limit: int) -> tuple[list[Section], list[str]]:
    """Return (sections, skipped archive members) of an e-print: abstract, then each \\section.

    Raises `ArchiveError` (a `ValueError`) for an unusable e-print.
    """
    from ribao.fulltext.archive import read_eprint

    files, skipped = read_eprint(data, limit)
    source = _expand_macros(resolve_inputs(files, find_main(files)))
    start = source.find("\\begin{document}")
    body = source[start + len("\\begin{document}") :] if start >= 0 else source
    body = _BIBLIOGRAPHY.sub("", body.split("\\end{document}")[0])
    sections: list[Section] = []
    abstract = _ABSTRACT.search(body)
    if abstract:
        sections.append(Section(heading="Abstract", text=_to_text(abstract.group(1))))
        body = body[: abstract.start()] + body[abstract.end() :]
    parts = _SECTION.split(body)
    # parts = [before, title1, body1, title2, body2, …]
    for title, chunk in zip(parts[1::2], parts[2::2], strict=True):
        heading = _to_text(title)
        if "\\appendix" in chunk:
            chunk = chunk.replace("\\appendix", "")
        sections.append(Section(heading=heading, text=_to_text(chunk)))
    sections = [s for s in sections if s.text]
    if not sections:
        raise ArchiveError("the LaTeX source has no \\section and no abstract")
    return sections, skipped
