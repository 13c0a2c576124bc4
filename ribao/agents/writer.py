"""The writer: one Chinese summary per pick (five fields for a must-read, one line for a notable)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from pydantic import BaseModel

from ribao.agents.ask import ask
from ribao.agents.guards import numbers_from
from ribao.agents.outputs import MustReadOutput, NotableOutput, digit_free
from ribao.agents.sharing import once, work_key
from ribao.calls import LLMCall
from ribao.context import RunContext
from ribao.fulltext.budget import Excerpt, fit_excerpt
from ribao.fulltext.document import PaperText
from ribao.fulltext.tokens import TokenBudget
from ribao.schemas import Paper, SourceRecord, Summary
from ribao.state import WriterTask


def _source_text(paper: Paper) -> str:
    return " ".join([paper.title, paper.abstract, paper.comment or ""])


def _excerpt(
    budget: TokenBudget,
    max_chars: int,
    text: PaperText | None,
    system: str,
    bare: str,
    schema: type[BaseModel],
) -> Excerpt | None:
    """Fit the paper's sections into what the writer model's window leaves (None: no full text)."""
    if text is None or not text.sections:
        return None
    room = budget.room(system, bare, json.dumps(schema.model_json_schema(), ensure_ascii=False))
    return fit_excerpt(text, room, budget.counter.count, max_chars=max_chars)


def _record(
    budget: TokenBudget, paper: Paper, text: PaperText | None, excerpt: Excerpt | None
) -> SourceRecord:
    """Return what the writer was shown: the excerpt, or title + abstract + comment."""
    fallbacks = list(text.fallbacks) if text else []
    if excerpt is not None and excerpt.text:
        return SourceRecord(
            used=text.used if text else "abstract",
            url=text.url if text else None,
            chars=excerpt.chars,
            tokens=excerpt.tokens,
            token_count=excerpt.counted_by,
            sections=excerpt.sections,
            cut=excerpt.cut,
            fallbacks=fallbacks,
            flagged=excerpt.flagged,
        )
    shown = _source_text(paper)
    counted = budget.counter.count(shown)
    return SourceRecord(
        used="abstract",
        chars=len(shown),
        tokens=counted.tokens,
        token_count=counted.by,
        cut=excerpt is not None,  # full text was read but nothing of it fitted
        fallbacks=fallbacks,
    )


def _shown(
    ctx: RunContext, paper: Paper, text: PaperText | None, system: str, bare: str, schema: type[BaseModel]
) -> tuple[Excerpt | None, SourceRecord]:
    """Return the excerpt for the prompt and the record of what the writer is shown.

    Blocking: token counts may ask the local model's tokenizer over HTTP (see `write_summary`).
    """
    budget = ctx.writer_budget or TokenBudget()
    excerpt = _excerpt(budget, ctx.settings.fulltext.max_chars, text, system, bare, schema)
    return excerpt, _record(budget, paper, text, excerpt)


async def write_summary(task: WriterTask, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Write the summary of one pick; returns `summaries` keyed by arXiv id and the `llm_calls`.

    The prompt carries the paper's full-text excerpt (when one was read) inside a fenced data block
    sized to the writer model's window. Every number the summary quotes must occur in the text the
    writer saw (title, abstract, comment, excerpt); a reply that breaks this is re-asked, then fails
    the run (`LLMOutputError`). The summary records that text as `source`.
    """
    ctx = runtime.context
    pick, paper = task["pick"], task["paper"]
    must = pick.tier == "must_read"
    template = "must_read" if must else "notable"
    schema: type[BaseModel] = MustReadOutput if must else NotableOutput
    if ctx.constrained("writer"):
        schema = digit_free(schema)
    system = ctx.prompts.render("writer", "system")
    bare = ctx.prompts.render("writer", template, paper=paper, fulltext=None)
    # In a worker thread: up to 8 tokenizer requests per must-read, each of up to 30 s.
    excerpt, source = await asyncio.to_thread(_shown, ctx, paper, task.get("fulltext"), system, bare, schema)
    shown = excerpt.text if excerpt is not None and excerpt.text else None
    user = ctx.prompts.render("writer", template, paper=paper, fulltext=shown) if shown else bare
    key = work_key(ctx, "writer", schema.__name__, system, user)

    async def pay(_: list[str]) -> tuple[dict[str, str], list[LLMCall]]:
        out, calls = await ask(
            ctx,
            "writer",
            schema,
            [SystemMessage(system), HumanMessage(user)],
            task=paper.arxiv_id,
            check=numbers_from(f"{_source_text(paper)} {shown or ''}"),
        )
        fields = {k: v.strip() for k, v in out.model_dump().items()}
        made = Summary(arxiv_id=paper.arxiv_id, tier=pick.tier, source=source, **fields)
        return {paper.arxiv_id: made.model_dump_json()}, calls

    answers, calls = await once(ctx, "summary", {paper.arxiv_id: key}, pay)
    summary = Summary.model_validate_json(answers[paper.arxiv_id])
    if not calls:
        runtime.stream_writer({"node": "write_summary", "message": f"{paper.arxiv_id}: summary shared"})
    return {"summaries": {paper.arxiv_id: summary}, "llm_calls": calls}
