"""Make paper-supplied text safe to show: one place for cleaning and escaping, reused by every renderer.

`clean` runs on every string a paper brings (title, abstract, authors, comment, categories) as it
is read, so nothing invisible or direction-changing reaches a page, a JSON file or a terminal:

* HTML entities are decoded once (``&amp;`` → ``&``), so the page and the JSON show the same text;
* control characters (Unicode category Cc, except newline and tab, which become spaces or
  paragraph breaks later) and format characters (Cf: bidi overrides and isolates such as U+202E,
  zero-width space/joiners U+200B–U+200D, word joiner U+2060, BOM U+FEFF, soft hyphen) are removed;
* lone surrogates (valid JSON escapes such as ``"\\ud800"`` that no UTF-8 file can hold) become
  U+FFFD, the replacement character.

`md_inline` and `md_code` escape text for one line of Markdown (the digest page, its tables);
`html_text` escapes for HTML. A renderer must use one of them for every paper- or LLM-supplied
string; they `clean` again, so text that did not come through a reader is safe too.
"""

from __future__ import annotations

import html
import re
import unicodedata

_KEEP = frozenset("\n\t")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~&$!])")
# What a category shown in a code span may contain: "cs.LG (机器学习)", "cs.DC (分布式、并行与集群计算)".
# Anything else (a backtick, a table's ``|``, Markdown syntax) is escaped text instead.
_CODE_SAFE = re.compile(r"[\w.\- ()、，]+")


def _visible(char: str) -> str:
    """Return ``char``, "" for an invisible control or format character, U+FFFD for a lone surrogate."""
    if char in _KEEP:
        return char
    category = unicodedata.category(char)
    if category == "Cs":
        return "\ufffd"
    if category in ("Cc", "Cf"):
        return ""
    return char


def clean(text: str) -> str:
    """Return ``text`` with HTML entities decoded and control, format and surrogate characters fixed.

    Whitespace is left as is (newlines and tabs kept) for the callers that collapse it.
    """
    decoded = html.unescape(text) if "&" in text else text
    if decoded.isascii() and decoded.isprintable():
        return decoded
    return "".join(_visible(c) for c in decoded)


def md_inline(text: str | None) -> str:
    """Return ``text`` cleaned, as one line of literal Markdown: whitespace collapsed, markup escaped.

    Escapes every character Markdown or an HTML-accepting renderer could read as markup,
    including ``|`` (table cells), ``<``/``>``/``&`` (HTML) and ``$`` (math extensions).
    """
    return _MD_SPECIAL.sub(r"\\\1", " ".join(clean(text or "").split()))


def md_code(text: str | None) -> str:
    """Return ``text`` as a Markdown code span (```cs.LG (机器学习)```) when it is a plain category-like
    string, else as escaped inline text (a code span cannot escape a backtick or a table's ``|``).
    """
    line = " ".join(clean(text or "").split())
    if line and _CODE_SAFE.fullmatch(line):
        return f"`{line}`"
    return md_inline(line)


def html_text(text: str | None) -> str:
    """Return ``text`` cleaned and HTML-escaped (``<``, ``>``, ``&``, quotes) for an element or attribute."""
    return html.escape(clean(text or ""), quote=True)
