"""Normalise arXiv metadata: whitespace, LaTeX for display, and code links (ids: `ribao.arxiv_ids`)."""

from __future__ import annotations

import logging
import re

from pylatexenc import latexwalker, macrospec
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec
from pylatexenc.latex2text import get_default_latex_context_db as _text_context_db

logger = logging.getLogger(__name__)

_C1_RE = re.compile("[\u0080-\u009f]")


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 read as Latin-1 when C1 control characters betray it (``Ï\\x89`` → ``ω``)."""
    if not _C1_RE.search(text):
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        # Mixed or genuinely broken text: C1 controls are never meant to be shown.
        return _C1_RE.sub("", text)


def one_line(text: str) -> str:
    """Collapse all whitespace (newlines, tabs, runs of spaces) to single spaces; strip the ends."""
    return " ".join(repair_mojibake(text).split())


# arXiv marks a new abstract paragraph with a newline followed by indentation; a bare newline
# is only a hard wrap (old API responses wrap at ~80 columns).
_PARAGRAPH_RE = re.compile(r"\n[ \t]+|\n\s*\n")


def paragraphs(text: str) -> str:
    """Collapse whitespace inside each paragraph and join paragraphs with one ``\\n``."""
    parts = (one_line(part) for part in _PARAGRAPH_RE.split(repair_mojibake(text).strip()))
    return "\n".join(part for part in parts if part)


def _walker_context() -> latexwalker.LatexContextDb:
    """Return pylatexenc's parser context plus argument specs for macros abstracts use."""
    db = latexwalker.get_default_latex_context_db()
    # The default parser context does not know these take two arguments, which makes
    # LatexNodes2Text fail on \href{url}{text} (IndexError inside pylatexenc).
    db.add_context_category(
        "ribao",
        prepend=True,
        macros=[macrospec.std_macro(name, False, 2) for name in ("href", "textcolor", "texorpdfstring")],
    )
    return db


def _text_context() -> object:
    """Return pylatexenc's text context plus renderings it lacks (``\\texttt`` is dropped by default)."""
    db = _text_context_db()
    db.add_context_category(
        "ribao",
        prepend=True,
        macros=[
            MacroTextSpec("texttt", simplify_repl="%(1)s"),
            MacroTextSpec("frac", simplify_repl="%(1)s/%(2)s"),
            MacroTextSpec("textcolor", simplify_repl="%(2)s"),
            MacroTextSpec("texorpdfstring", simplify_repl="%(1)s"),
            MacroTextSpec("|", simplify_repl="‖"),  # a norm, $\|x\|$
        ],
    )
    return db


_WALKER_CONTEXT = _walker_context()
_TO_TEXT = LatexNodes2Text(latex_context=_text_context(), math_mode="text", strict_latex_spaces=False)
# In abstracts % and & are almost always literal ("20% better", "Q&A"); unescaped, LaTeX would
# drop the rest of the line after % and turn & into alignment space.
_LITERAL_RE = re.compile(r"(?<!\\)([%&])")
_LATEX_HINT_RE = re.compile(r"[\\$~{}]")


# Math follows pandoc's tex_math_dollars: ``$`` followed by a non-space, closed by a ``$`` after a
# non-space; when the math starts with a digit the closing ``$`` must not be followed by a digit
# (pandoc asks that always, which would miss arXiv's "$>$0.96"). So "under $5 per run" and
# "costs $5 and $10" keep their dollars, while "$x^2$", "$10^5$" and "$>$0.96" have math.
_MATH_BODY = r"(?:\\.|[^$\\])+?(?<=\S)\$"
_MATH_RE = re.compile(rf"\$\$.+?\$\$|(?<!\\)\$(?=[^\s\d$]){_MATH_BODY}|(?<!\\)\$(?=\d){_MATH_BODY}(?!\d)")
# Outside math: a "$" that opens nothing is a dollar; "\|" is kept as typed; a "~" is LaTeX's
# non-breaking space only between two non-spaces ("Fig.~3"), else a tilde ("~5%", "x ~ y").
_PLAIN_RE = re.compile(r"(?<!\\)\$|\\\||(?:(?<=\s)|^)~|~(?=\s|$)")
_PLAIN_REPL = {"$": r"\$", "\\|": r"\textbackslash{}|", "~": r"\textasciitilde{}"}


def _protect_plain(text: str) -> str:
    """Escape the characters of plain text that LaTeX would eat, leaving math spans alone."""
    out, last = [], 0
    for math in _MATH_RE.finditer(text):
        plain = text[last : math.start()]
        out.append(_PLAIN_RE.sub(lambda m: _PLAIN_REPL[m.group()], plain))
        out.append(math.group())
        last = math.end()
    out.append(_PLAIN_RE.sub(lambda m: _PLAIN_REPL[m.group()], text[last:]))
    return "".join(out)


def latex_to_text(text: str) -> str:
    """Render LaTeX in a title or abstract to Unicode for display; never raises.

    Text without LaTeX markup is returned as is. Plain-text ``$``, ``~`` and ``\\|`` are kept (see
    `_protect_plain`). When pylatexenc fails on odd input (it can raise IndexError, KeyError,
    AttributeError … on malformed macros), the input comes back unchanged.
    """
    if not _LATEX_HINT_RE.search(text):
        return text
    try:
        rendered = _TO_TEXT.latex_to_text(
            _LITERAL_RE.sub(r"\\\1", _protect_plain(text)),
            latex_context=_WALKER_CONTEXT,
            tolerant_parsing=True,
        )
    except Exception as err:  # noqa: BLE001 - display only; any parser failure falls back to raw text
        logger.debug("LaTeX rendering failed (%s: %s); showing raw text", type(err).__name__, err)
        return text
    return rendered.replace("\u00a0", " ")


def title_display(title: str) -> str:
    """Return a title rendered for people: LaTeX to Unicode, one line."""
    return one_line(latex_to_text(title))


# A scheme split by a space ("https: //github.com/…") is joined before matching.
_SPLIT_SCHEME_RE = re.compile(r"(https?):\s+//", re.IGNORECASE)
_GITHUB_RE = re.compile(
    r"(?:\bhttps?://|(?<![\w.@/-]))(?:www\.)?(?i:github\.com)/"
    r"(?P<owner>[A-Za-z0-9][A-Za-z0-9_-]*)/(?P<repo>[A-Za-z0-9_.-]+)"
)
# First path segments that are GitHub pages, not accounts.
_NOT_OWNERS = frozenset(
    {"about", "apps", "collections", "enterprise", "explore", "features", "marketplace", "orgs"}
    | {"pricing", "search", "settings", "site", "sponsors", "topics", "users"}
)


def _clean_repo(repo: str) -> str:
    """Strip what ends a sentence or a clone URL from a repository name (``GLM-5.`` → ``GLM-5``)."""
    repo = repo.rstrip(".")
    if repo.lower().endswith(".git"):
        repo = repo[: -len(".git")].rstrip(".")
    return repo


def _first_repo_link(text: str) -> str | None:
    """Return the first ``https://github.com/<owner>/<repo>`` that ``text`` names, or None."""
    text = _SPLIT_SCHEME_RE.sub(r"\1://", text.replace("\\_", "_"))
    for match in _GITHUB_RE.finditer(text):
        owner, repo = match.group("owner"), _clean_repo(match.group("repo"))
        if repo and owner.lower() not in _NOT_OWNERS:
            return f"https://github.com/{owner}/{repo}"
    return None


def extract_code_url(abstract: str | None, comment: str | None) -> str | None:
    """Return the paper's clean ``https://github.com/<owner>/<repo>`` link, or None.

    The first GitHub link that names a repository wins, the abstract before the comment: the
    abstract is where authors state their own code ("Code is available at …"), a comment more
    often lists venue, pages and extra links. Wrappers (``\\url{}``, ``\\href{url}{text}``,
    Markdown ``[..](..)`` and ``<..>``), trailing punctuation, ``.git``, ``www.``, sub-paths
    (``/tree/main``) and anchors are dropped; a missing scheme is added and a scheme split by a
    space is joined. A bare ``github.com`` or an account without a repository is no link.
    """
    for text in (abstract, comment):
        if text and (link := _first_repo_link(text)):
            return link
    return None
