"""How candidates appear to the agents: short keys (P001…) and trimmed abstracts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ribao.schemas import Critique, MemoryFlag, Paper


def candidate_keys(papers: Sequence[Paper]) -> dict[str, str]:
    """Map canonical arXiv id → key ``P001``… in listing order (stable across rounds of a run)."""
    return {p.arxiv_id: f"P{i + 1:03d}" for i, p in enumerate(papers)}


def trim_words(text: str, limit: int) -> str:
    """Return the first `limit` words of `text`, with an ellipsis when cut."""
    words = text.split()
    return text if len(words) <= limit else " ".join(words[:limit]) + " …"


def view(paper: Paper, key: str, abstract_words: int) -> dict[str, Any]:
    """Return the fields a prompt shows for one candidate (raw title, trimmed abstract)."""
    return {
        "key": key,
        "arxiv_id": paper.arxiv_id,
        "title": paper.title,
        "primary_category": paper.primary_category,
        "abstract": trim_words(paper.abstract, abstract_words),
        "code_url": paper.code_url,
    }


def flag_views(flags: Sequence[MemoryFlag], keys: dict[str, str]) -> list[dict[str, Any]]:
    """Return memory flags of the candidates in `keys`, addressed by key."""
    return [{**f.model_dump(), "key": keys[f.arxiv_id]} for f in flags if f.arxiv_id in keys]


def replaced_ids(critiques: Sequence[Critique]) -> set[str]:
    """Return the canonical ids of every pick the critic asked to replace in any round so far."""
    return {d.arxiv_id for c in critiques for d in c.decisions if d.decision == "replace"}
