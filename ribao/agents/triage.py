"""The screener's first pass: score one batch of candidates 1–10 (one `triage_batch` task per batch).

What triage shows of a candidate is its *triage view* (`triage_view`): key, title, primary
category, a code marker and the first `triage_abstract_words` words of the abstract with URLs
removed. Every triage request of a run starts with the same bytes, so a provider's prefix cache
can serve them: message 0 is one fixed system message (the screener's system prompt plus the
triage rules), and the tool schema is the same for every full batch because keys are local to
the batch (``P01``…, `batch_keys`). What differs (batch number, memory flags, candidates) is in
the one user message after them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from ribao.agents.ask import ask
from ribao.agents.candidates import trim_words
from ribao.agents.outputs import compact_triage_schema, triage_schema, triage_scores
from ribao.agents.sharing import once, work_key
from ribao.calls import LLMCall
from ribao.context import Prompts, RunContext
from ribao.schemas import Paper
from ribao.state import TriageTask

_URL = re.compile(r"\s*\(?\bhttps?://\S+")


def batch_keys(papers: Sequence[Paper], batch_size: int) -> dict[str, str]:
    """Map arXiv id → batch-local key ``P01``… in batch order; the width fits `batch_size` (≥2 digits).

    Local keys make the tool schema of every full batch identical (a cacheable prefix) and are
    shorter than the run's global keys.
    """
    width = max(2, len(str(batch_size)))
    return {p.arxiv_id: f"P{i + 1:0{width}d}" for i, p in enumerate(papers)}


def triage_view(paper: Paper, key: str, abstract_words: int) -> dict[str, Any]:
    """Return what triage shows of one candidate: key, title, primary category, whether it links code,
    and the first `abstract_words` words of its abstract with URLs removed (the code link is the
    marker; a URL costs 10–20 tokens and says nothing about the paper's value)."""
    return {
        "key": key,
        "title": paper.title,
        "primary_category": paper.primary_category,
        "code": bool(paper.code_url),
        "abstract": trim_words(_URL.sub("", paper.abstract), abstract_words),
    }


def triage_messages(
    prompts: Prompts,
    papers: Sequence[Paper],
    keys: dict[str, str],
    *,
    batch_index: int,
    batch_count: int,
    abstract_words: int,
) -> list[BaseMessage]:
    """Return the messages of one triage request: the fixed system message, then the batch.

    Message 0 is byte-identical for every batch of a run (``screener/system`` + ``screener/triage_rules``);
    the user message (``screener/triage``) carries batch n of `batch_count` and the triage views of
    `papers` (by `keys`). Memory flags are not shown here: `flag_near_duplicates` checks only the
    candidates the screener and the critic will see, after triage.
    """
    system = prompts.render("screener", "system") + "\n\n" + prompts.render("screener", "triage_rules")
    user = prompts.render(
        "screener",
        "triage",
        batch_index=batch_index,
        batch_count=batch_count,
        candidates=[triage_view(p, keys[p.arxiv_id], abstract_words) for p in papers],
    )
    return [SystemMessage(system), HumanMessage(user)]


async def triage_batch(task: TriageTask, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Score the candidates of one batch; returns `triage_scores` (arXiv id → 1..10) and `llm_calls`.

    With shared work, scores another run of the scope paid for (or is paying for) are reused.

    Each batch is its own task, so batches run concurrently (under the provider's limits) and a
    finished batch is checkpointed: a resumed run repays none. Raises `LLMOutputError` via the call.
    """
    ctx = runtime.context
    s = ctx.settings
    n, count, papers = task["batch_index"], task["batch_count"], task["papers"]
    schema = compact_triage_schema if ctx.constrained("screener") else triage_schema

    async def pay(ids: list[str]) -> tuple[dict[str, str], list[LLMCall]]:
        asked = [p for p in papers if p.arxiv_id in set(ids)]  # the whole batch unless another run holds some
        keys = batch_keys(asked, s.screener_batch_size)
        messages = triage_messages(
            ctx.prompts, asked, keys,
            batch_index=n, batch_count=count, abstract_words=s.triage_abstract_words,
        )  # fmt: skip
        local_keys = list(keys.values())
        out, calls = await ask(ctx, "screener", schema(local_keys), messages, task=f"triage {n}/{count}")
        by_key = triage_scores(out, local_keys)
        return {p.arxiv_id: json.dumps(by_key[keys[p.arxiv_id]]) for p in asked}, calls

    answers, calls = await once(ctx, "triage", {p.arxiv_id: paper_key(ctx, p) for p in papers}, pay)
    scores = {p.arxiv_id: int(json.loads(answers[p.arxiv_id])) for p in papers}
    runtime.stream_writer(
        {"node": "triage_batch", "message": f"triage batch {n}/{count}: {len(scores)} scored"}
    )
    return {"triage_scores": scores, "llm_calls": calls}


def paper_key(ctx: RunContext, paper: Paper) -> str:
    """Key one paper's triage score by the model and its request rendered alone: the system message and
    the triage template over the paper's view (no batch number or local key: a score is the paper's)."""
    system = ctx.prompts.render("screener", "system") + ctx.prompts.render("screener", "triage_rules")
    view = triage_view(paper, "", ctx.settings.triage_abstract_words)
    alone = ctx.prompts.render("screener", "triage", batch_index=0, batch_count=0, candidates=[view])
    return work_key(ctx, "screener", "triage", system, alone, ctx.constrained("screener"))


def shared_scores(ctx: RunContext, papers: Sequence[Paper]) -> dict[str, int]:
    """Return the triage scores of `papers` another profile of the day's run already paid for, by arXiv
    id ({} for a run of one profile). Blocking (SQLite)."""
    if ctx.shared is None:
        return {}
    found = ctx.shared.get_many("triage", {p.arxiv_id: paper_key(ctx, p) for p in papers})
    return {pid: int(json.loads(v)) for pid, v in found.items()}
