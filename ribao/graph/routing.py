"""Pure routers: they read the state and name the next step, nothing else."""

from __future__ import annotations

from typing import Literal

from langgraph.types import Send

from ribao.state import DigestState, WriterTask


def route_after_critique(state: DigestState) -> Literal["screen_papers", "fetch_fulltext"]:
    """Send the picks back to the screener on a revise under the cap; else on to the full text."""
    last = state["critiques"][-1]
    if last.verdict == "revise" and state["critic_rounds"] < state["max_critic_rounds"]:
        return "screen_papers"
    return "fetch_fulltext"


def dispatch_writers(state: DigestState) -> list[Send]:
    """Return one `write_summary` task per pick, carrying the pick, its paper and its full text (if read)."""
    papers = {p.arxiv_id: p for p in state["candidates"]}
    texts = state.get("fulltexts", {})
    return [
        Send(
            "write_summary",
            WriterTask(pick=pick, paper=papers[pick.arxiv_id], fulltext=texts.get(pick.arxiv_id)),
        )
        for pick in state["picks"]
    ]
