"""The canonical arXiv id: one rule for every form an id comes in (bare, versioned, prefixed, a URL)."""

from __future__ import annotations

import re

# New-style ids (0704.0001 onwards, 5 digits since 1501) and old-style archive ids such as
# hep-ph/0301050 or math.GT/0309136, each optionally followed by a version suffix.
# [0-9], not \d: \d also matches full-width and other Unicode digits, which no arXiv id has.
_ID = r"[0-9]{4}\.[0-9]{4,5}|[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/[0-9]{7}"
_ID_RE = re.compile(rf"(?<![\w.])(?P<id>{_ID})(?:v(?P<version>[0-9]+))?(?![\w])")
# What a reader types or pastes: the whole text is one id, bare, arXiv:-prefixed, or an arxiv.org URL.
_WHOLE_RE = re.compile(
    rf"(?i:arxiv:|https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/)?(?P<id>{_ID})(?:[vV][0-9]+)?"
    r"(?:\.pdf)?/?"
)
FIRST_NEW_STYLE, FIRST_FIVE_DIGITS = 704, 1501  # 0704.0001 began new-style ids; 1501 their 5 digits


def split_id(raw: str) -> tuple[str, int | None]:
    """Return (canonical id, version) from any id form: bare, ``arXiv:``-prefixed, or an abs/pdf URL.

    ``"2602.15799v1"`` → ``("2602.15799", 1)``; ``"http://arxiv.org/abs/hep-ph/0301050v2"`` →
    ``("hep-ph/0301050", 2)``; no suffix → version None. Raises ValueError when no id is found.
    """
    match = _ID_RE.search(raw.strip())
    if match is None:
        raise ValueError(f"not an arXiv id: {raw!r}")
    version = match.group("version")
    return match.group("id"), int(version) if version else None


def canonical_id(raw: str) -> str:
    """Return the canonical id (no version suffix) of any id form; raises ValueError when none is found."""
    return split_id(raw)[0]


def parse_id(raw: str) -> str:
    """Return the canonical id of text that is one arXiv id and nothing else (a reader's input: bare,
    ``arXiv:``-prefixed, or an arxiv.org abs/pdf/html URL, any version suffix).

    Stricter than `canonical_id`, which finds an id inside any text: ``2602.15067,2602.15100`` or a
    month 13 is refused here. Raises ValueError saying what is wrong.
    """
    match = _WHOLE_RE.fullmatch(raw.strip())
    if match is None:
        raise ValueError(f"{raw!r} is not an arXiv id")
    found = match.group("id")
    head, _, number = found.partition(".")
    if "/" not in found:
        yymm = int(head)
        if not 1 <= yymm % 100 <= 12 or yymm < FIRST_NEW_STYLE:
            raise ValueError(f"{raw!r}: no arXiv id begins {head} (YYMM, from 0704)")
        digits = 5 if yymm >= FIRST_FIVE_DIGITS else 4
        if len(number) != digits:
            raise ValueError(f"{raw!r}: ids of {head} have {digits} digits after the dot")
    return found
