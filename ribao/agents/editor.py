"""The editor's nodes: the LLM lead (`write_lead`), then the digest's record and files (`write_digest`)."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from ribao.agents.ask import ask
from ribao.agents.guards import numbers_from
from ribao.agents.outputs import LOCAL_LEAD_CHARS, LeadOutput, digit_free
from ribao.calls import LLMCall
from ribao.context import RunContext
from ribao.digest import build_record, write_record
from ribao.errors import MissingSummary, OutputError
from ribao.state import DigestState, eligible


def require_summaries(state: DigestState) -> None:
    """Raise `MissingSummary` when a pick has no summary: the digest is never written shorter."""
    summaries = state.get("summaries", {})
    missing = [p.arxiv_id for p in state["picks"] if p.arxiv_id not in summaries]
    if missing:
        raise MissingSummary(f"no summary for picks {', '.join(missing)}: refusing to write a shorter digest")


def _lead_source(state: DigestState) -> str:
    """Everything the lead may quote from: the date, and the picks' titles, abstracts and summaries."""
    papers = {p.arxiv_id: p for p in state["candidates"]}
    parts = [state["date"].isoformat()]
    for pick in state["picks"]:
        paper, summary = papers[pick.arxiv_id], state["summaries"][pick.arxiv_id]
        texts = [v for v in summary.model_dump().values() if isinstance(v, str)]
        parts += [paper.title, paper.abstract, *texts]
    return " ".join(parts)


async def ask_lead(state: DigestState, ctx: RunContext) -> tuple[str, list[LLMCall]]:
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
    out, calls = await ask(
        ctx,
        "editor",
        digit_free(LeadOutput, LOCAL_LEAD_CHARS) if ctx.constrained("editor") else LeadOutput,
        [
            SystemMessage(ctx.prompts.render("editor", "system")),
            HumanMessage(ctx.prompts.render("editor", "user", date=state["date"].isoformat(), items=items)),
        ],
        task="lead",
        check=numbers_from(_lead_source(state)),
    )
    return str(out.lead).strip(), calls  # type: ignore[attr-defined]


async def write_lead(state: DigestState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Ask the editor for the day's lead when `editor_lead` is on; returns `lead` (or None) and its calls.

    Raises `MissingSummary` when a pick has no summary (before any call is made).
    """
    require_summaries(state)
    ctx = runtime.context
    if not (ctx.settings.editor_lead and state["picks"]):
        return {"lead": None, "llm_calls": []}
    lead, calls = await ask_lead(state, ctx)
    return {"lead": lead, "llm_calls": calls}


def write_digest(state: DigestState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Build the digest's record, write `<out>/<date>.md`, `.json` and `.html` atomically; return the paths.

    A sync node (file I/O runs in LangGraph's thread pool). The page counts only what happened:
    `scanned` is the number of candidates the screener saw, tokens and cost cover every recorded
    call of the run, the editor's own included. Raises `MissingSummary` when a pick has no summary.
    """
    require_summaries(state)
    ctx = runtime.context
    calls = list(state.get("llm_calls", []))
    cost, currency = ctx.total_cost(calls)
    record = build_record(
        date=state["date"],
        run_id=ctx.run_id,
        scanned=len(eligible(state)),
        categories=ctx.settings.categories,
        picks=state["picks"],
        papers={p.arxiv_id: p for p in state["candidates"]},
        summaries=state.get("summaries", {}),
        critiques=state.get("critiques", []),
        calls=calls,
        cost=cost,
        currency=currency,
        lead=state.get("lead"),
        wanted=ctx.settings.must_read + ctx.settings.notable,
        profile=ctx.profile.name if ctx.profile else None,
        floor=ctx.profile.floor if ctx.profile else None,
        stars=state.get("stars", {}),
    )
    try:
        paths = write_record(record, ctx.settings.out_dir, ctx.prompts, ctx.write_files)
    except OSError as exc:  # a folder gone read-only or full since the run's start: one line, not a trace
        raise OutputError(
            f"cannot write the digest in {ctx.settings.out_dir}: {exc}; nothing written"
        ) from exc
    return {"digest_path": str(paths.markdown), "json_path": str(paths.json)}
