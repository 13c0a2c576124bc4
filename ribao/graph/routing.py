"""Pure routers: they read the state and name the next step, nothing else."""

from __future__ import annotations

from typing import Literal

from langgraph.types import Send

from ribao.state import DigestState, TriageTask, WriterTask, screened


def route_after_recall(state: DigestState, batch_size: int) -> Literal["screen_papers"] | list[Send]:
    """Send one `triage_batch` task per batch of `batch_size` candidates not yet scored, in listing
    order; with nothing left to triage (or nothing to screen) go straight to the screener."""
    papers = screened(state)
    done = state.get("triage_scores", {})
    flags = state.get("memory_flags", [])
    batches = [papers[i : i + batch_size] for i in range(0, len(papers), batch_size)]
    sends = [
        Send(
            "triage_batch",
            TriageTask(
                batch_index=n,
                batch_count=len(batches),
                papers=batch,
                flags=[f for f in flags if f.arxiv_id in {p.arxiv_id for p in batch}],
            ),
        )
        for n, batch in enumerate(batches, start=1)
        if any(p.arxiv_id not in done for p in batch)
    ]
    return sends or "screen_papers"


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
