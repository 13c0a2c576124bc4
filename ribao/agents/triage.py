"""The screener's first pass: score one batch of candidates 1–10 (one `triage_batch` task per batch)."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from ribao.agents.candidates import flag_views, view
from ribao.agents.outputs import triage_schema
from ribao.context import RunContext
from ribao.llm.structured import ainvoke_structured
from ribao.state import TriageTask


async def triage_batch(task: TriageTask, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Score the candidates of one batch; returns `triage_scores` (arXiv id → 1..10) and `llm_calls`.

    Each batch is its own task, so batches run concurrently (under the provider's limits) and a
    finished batch is checkpointed: a resumed run repays none. Raises `LLMOutputError` via the call.
    """
    ctx = runtime.context
    n, count, keys = task["batch_index"], task["batch_count"], task["keys"]
    papers = task["papers"]
    user = ctx.prompts.render(
        "screener",
        "triage",
        batch_index=n,
        batch_count=count,
        candidates=[view(p, keys[p.arxiv_id], ctx.settings.screener_abstract_words) for p in papers],
        flags=flag_views(task["flags"], keys),
    )
    out, calls = await ainvoke_structured(
        ctx.model("screener"),
        triage_schema([keys[p.arxiv_id] for p in papers]),
        [SystemMessage(ctx.prompts.render("screener", "system")), HumanMessage(user)],
        agent="screener",
        task=f"triage {n}/{count}",
        retries=ctx.settings.structured_retries,
        price=ctx.price,
    )
    scores = {p.arxiv_id: int(getattr(out, keys[p.arxiv_id])) for p in papers}
    runtime.stream_writer(
        {"node": "triage_batch", "message": f"triage batch {n}/{count}: {len(scores)} scored"}
    )
    return {"triage_scores": scores, "llm_calls": calls}
