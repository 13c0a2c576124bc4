"""The editor: an optional LLM lead, then the deterministic page and JSON written to the output folder."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from ribao.agents.guards import numbers_from
from ribao.agents.outputs import LeadOutput, digit_free
from ribao.calls import LLMCall
from ribao.context import RunContext
from ribao.delivery.page import render_page
from ribao.digest import cost_text, digest_record, render_markdown, usage_totals, write_outputs
from ribao.llm.structured import ainvoke_structured
from ribao.sources.stars import fetch_stars
from ribao.state import DigestState, screened


def _lead_source(state: DigestState) -> str:
    """Everything the lead may quote from: the date, and the picks' titles, abstracts and summaries."""
    papers = {p.arxiv_id: p for p in state["candidates"]}
    parts = [state["date"].isoformat()]
    for pick in state["picks"]:
        paper, summary = papers[pick.arxiv_id], state["summaries"][pick.arxiv_id]
        texts = [v for v in summary.model_dump().values() if isinstance(v, str)]
        parts += [paper.title, paper.abstract, *texts]
    return " ".join(parts)


def _stars(state: DigestState, ctx: RunContext, progress: Callable[[Any], None]) -> dict[str, int | None]:
    """Fetch GitHub stars of the picks' code links (cached per day); the trace says why any is missing."""
    papers = {p.arxiv_id: p for p in state["candidates"]}
    urls = [u for u in (papers[p.arxiv_id].code_url for p in state["picks"]) if u]
    gh = ctx.settings.github
    result = fetch_stars(
        urls,
        token=os.environ.get(gh.token_env) or None,
        cache_dir=ctx.settings.arxiv_cache,
        day=state["date"],
        timeout=gh.timeout_seconds,
        api_url=gh.api_url,
    )
    if result.summary():
        progress({"node": "assemble_digest", "message": result.summary()})
    return result.stars


async def write_lead(state: DigestState, ctx: RunContext) -> tuple[str, list[LLMCall]]:
    """Ask the editor for the day's lead (at most ~120 Chinese characters); returns it and its calls."""
    papers = {p.arxiv_id: p for p in state["candidates"]}
    summaries = state["summaries"]
    items = [
        {
            "rank": p.rank,
            "title": papers[p.arxiv_id].title_display,
            "summary": summaries[p.arxiv_id].title_zh or summaries[p.arxiv_id].one_line or "",
        }
        for p in state["picks"]
    ]
    out, calls = await ainvoke_structured(
        ctx.model("editor"),
        digit_free(LeadOutput) if ctx.constrained("editor") else LeadOutput,
        [
            SystemMessage(ctx.prompts.render("editor", "system")),
            HumanMessage(ctx.prompts.render("editor", "user", date=state["date"].isoformat(), items=items)),
        ],
        agent="editor",
        task="lead",
        check=numbers_from(_lead_source(state)),
        retries=ctx.settings.structured_retries,
    )
    return str(out.lead).strip(), calls  # type: ignore[attr-defined]


async def assemble_digest(state: DigestState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Write `<out>/<date>.md` and `<out>/<date>.json`; returns their paths, the lead and its calls.

    The page counts only what happened: `scanned` is the number of candidates the screener saw,
    tokens and cost cover every recorded call of the run, the editor's own included.
    """
    ctx = runtime.context
    papers = {p.arxiv_id: p for p in state["candidates"]}
    picks = state["picks"]
    summaries = state.get("summaries", {})
    missing = [p.arxiv_id for p in picks if p.arxiv_id not in summaries]
    if missing:
        raise RuntimeError(f"no summary for picks {missing}: refusing to write a shorter digest")
    lead, calls = await write_lead(state, ctx) if ctx.settings.editor_lead and picks else (None, [])
    all_calls = [*state.get("llm_calls", []), *calls]
    totals = usage_totals(all_calls)
    cost, currency = ctx.total_cost(all_calls)
    stars = _stars(state, ctx, runtime.stream_writer) if ctx.settings.github.stars else {}
    scanned = len(screened(state))
    categories = ctx.settings.categories
    markdown = render_markdown(
        prompts=ctx.prompts,
        date=state["date"],
        categories=categories,
        scanned=scanned,
        picks=picks,
        papers=papers,
        summaries=summaries,
        total_tokens=totals["input_tokens"] + totals["output_tokens"],
        cost=cost_text(cost, currency),
        lead=lead,
        run_id=ctx.run_id,
        stars=stars,
    )
    record = digest_record(
        date=state["date"],
        run_id=ctx.run_id,
        scanned=scanned,
        categories=categories,
        picks=picks,
        papers=papers,
        summaries=summaries,
        critiques=state.get("critiques", []),
        calls=all_calls,
        cost=cost,
        currency=currency,
        lead=lead,
    )
    html = render_page(record)
    md_path, json_path = write_outputs(ctx.settings.out_dir, state["date"], markdown, record, html)
    return {"lead": lead, "digest_path": str(md_path), "json_path": str(json_path), "llm_calls": calls}
