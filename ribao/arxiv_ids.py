"""The canonical arXiv id: one rule for every form an id comes in (bare, versioned, prefixed, a URL)."""

from __future__ import annotations

import re

# New-style ids (0704.0001 onwards, 5 digits since 1501) and old-style archive ids such as
# hep-ph/0301050 or math.GT/0309136, each optionally followed by a version suffix.
_ID_RE = re.compile(
    r"(?<![\w.])(?P<id>\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<version>\d+))?(?![\w])"
)


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
