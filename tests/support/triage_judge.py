"""A scripted triage judge: a deterministic stand-in for the LLM's first-pass judgement.

It reads a triage request the way the model would (the candidates as the user message shows
them) and scores each one 1–10 from what is *shown*: topic terms an AI-digest reader cares about,
counted in the title (double weight) and the visible abstract, plus small bonuses for a code link
and for claims of results. No embeddings, no keywords tuned to a day. Used by
scripts/triage_view.py and tests/test_triage_view.py to check that a shorter triage view
shortlists the same papers as the full one.
"""

from __future__ import annotations

import re

# (pattern, weight): the digest's readers are AI researchers and engineers (DESIGN.md).
TERMS: tuple[tuple[str, int], ...] = (
    (r"\b(large )?language models?\b|\bllms?\b", 3),
    (r"\bagent(s|ic)?\b|\bmulti-agent\b", 3),
    (r"\breasoning\b|\bchain-of-thought\b", 2),
    (r"\breinforcement learning\b|\brlhf\b|\bgrpo\b|\breward models?\b", 2),
    (r"\balignment\b|\bsafety\b|\bjailbreak", 2),
    (r"\bbenchmarks?\b|\bevaluation\b", 1),
    (r"\bmultimodal\b|\bvision-language\b|\bvlms?\b", 2),
    (r"\btransformers?\b|\battention\b", 1),
    (r"\bdiffusion\b", 1),
    (r"\bretrieval\b|\brag\b", 1),
    (r"\bfine-tun|\binstruction\b|\bpre-?train", 1),
    (r"\binference\b|\befficien|\bscaling\b|\bquantiz", 1),
    (r"\binterpretab|\bmechanistic\b", 1),
    (r"\bstate-of-the-art\b|\boutperform|\bsurpass", 1),
    (r"\bopen-source|\bwe release\b|\bpublicly available\b", 1),
    (r"\bnovel\b|\bwe propose\b|\bwe introduce\b|\bfirst\b", 1),
)
_COMPILED = tuple((re.compile(p, re.IGNORECASE), w) for p, w in TERMS)
_HEADER = re.compile(r"^\[(P\d+)\] (.*)$")


def judge(title: str, shown_abstract: str, *, code: bool) -> int:
    """Score one candidate 1..10 from its title and the abstract text the view shows."""
    points = 0
    for pattern, weight in _COMPILED:
        if pattern.search(title):
            points += 2 * weight
        elif pattern.search(shown_abstract):
            points += weight
    points += 1 if code else 0
    return max(1, min(10, 1 + points // 2))


def candidates_shown(user_message: str) -> dict[str, tuple[str, str, bool]]:
    """Parse a triage user message into key → (title line, abstract shown, has code marker)."""
    out: dict[str, tuple[str, str, bool]] = {}
    key: str | None = None
    for line in user_message.splitlines():
        head = _HEADER.match(line)
        if head:
            key = head.group(1)
            out[key] = (head.group(2), "", head.group(2).endswith("[code]"))
        elif key is not None and line.strip():
            title, abstract, code = out[key]
            out[key] = (title, (abstract + " " + line).strip(), code)
    return out


def judge_request(user_message: str) -> dict[str, int]:
    """Score every candidate of one triage user message: key → 1..10."""
    return {k: judge(t, a, code=c) for k, (t, a, c) in candidates_shown(user_message).items()}
