"""Pure routers: they read the state and name the next step, nothing else."""

from __future__ import annotations

from typing import Literal

from langgraph.types import Send

from ribao.state import DigestState, WriterTask


def route_after_critique(state: DigestState) -> Literal["screen_papers"] | list[Send]:
    """Send the picks back to the screener on a revise under the cap; else one writer task per pick."""
    last = state["critiques"][-1]
    if last.verdict == "revise" and state["critic_rounds"] < state["max_critic_rounds"]:
        return "screen_papers"
    return dispatch_writers(state)


def dispatch_writers(state: DigestState) -> list[Send]:
    """Return one `write_summary` task per pick, carrying the pick and its paper."""
    papers = {p.arxiv_id: p for p in state["candidates"]}
    return [
        Send("write_summary", WriterTask(pick=pick, paper=papers[pick.arxiv_id])) for pick in state["picks"]
    ]
