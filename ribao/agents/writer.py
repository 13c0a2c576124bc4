"""The writer: one Chinese summary per pick (five fields for a must-read, one line for a notable)."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from pydantic import BaseModel

from ribao.agents.guards import numbers_from
from ribao.agents.outputs import MustReadOutput, NotableOutput, digit_free
from ribao.context import RunContext
from ribao.llm.structured import ainvoke_structured
from ribao.schemas import Paper, Summary
from ribao.state import WriterTask


def _source_text(paper: Paper) -> str:
    return " ".join([paper.title, paper.abstract, paper.comment or ""])


async def write_summary(task: WriterTask, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Write the summary of one pick; returns `summaries` keyed by arXiv id and the `llm_calls`.

    Every number the summary quotes must occur in the paper's title, abstract or comment;
    a reply that breaks this is re-asked, then fails the run (`LLMOutputError`).
    """
    ctx = runtime.context
    pick, paper = task["pick"], task["paper"]
    must = pick.tier == "must_read"
    user = ctx.prompts.render("writer", "must_read" if must else "notable", paper=paper, fulltext=None)
    schema: type[BaseModel] = MustReadOutput if must else NotableOutput
    if ctx.constrained("writer"):
        schema = digit_free(schema)
    out, calls = await ainvoke_structured(
        ctx.model("writer"),
        schema,
        [SystemMessage(ctx.prompts.render("writer", "system")), HumanMessage(user)],
        agent="writer",
        task=paper.arxiv_id,
        check=numbers_from(_source_text(paper)),
        retries=ctx.settings.structured_retries,
    )
    fields = {k: v.strip() for k, v in out.model_dump().items()}
    summary = Summary(arxiv_id=paper.arxiv_id, tier=pick.tier, **fields)
    return {"summaries": {paper.arxiv_id: summary}, "llm_calls": calls}
