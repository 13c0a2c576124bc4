"""Pure routers: they read the state and name the next step, nothing else."""

from __future__ import annotations

from typing import Literal

from langgraph.types import Send

from ribao.state import DigestState, TriageTask, WriterTask, eligible


def route_after_recall(state: DigestState, batch_size: int) -> Literal["flag_near_duplicates"] | list[Send]:
    """Send one `triage_batch` task per batch of `batch_size` candidates not yet scored, in listing
    order; with nothing left to triage (or nothing to screen) go straight on to the screening round."""
    done = state.get("triage_scores", {})
    papers = [p for p in eligible(state) if p.arxiv_id not in done]
    batches = [papers[i : i + batch_size] for i in range(0, len(papers), batch_size)]
    sends = [
        Send("triage_batch", TriageTask(batch_index=n, batch_count=len(batches), papers=batch))
        for n, batch in enumerate(batches, start=1)
    ]
    return sends or "flag_near_duplicates"


def route_after_critique(state: DigestState) -> Literal["flag_near_duplicates", "fetch_fulltext"]:
    """Send the picks back for another screening round on a revise under the cap (its near-duplicate
    check first: the critic may have named replacements); else on to the full text."""
    last = state["critiques"][-1]
    if last.verdict == "revise" and state["critic_rounds"] < state["max_critic_rounds"]:
        return "flag_near_duplicates"
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
