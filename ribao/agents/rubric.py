"""Rubric scores of general quality for a day run's first ranking round, paid once per paper and shared."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import HumanMessage, SystemMessage

from ribao.agents.ask import ask
from ribao.agents.candidates import flag_views, view
from ribao.agents.outputs import RankEntry, compact_rank_schema, rank_entries, rank_schema
from ribao.agents.sharing import once, work_key
from ribao.calls import LLMCall
from ribao.context import RunContext
from ribao.schemas import MemoryFlag, Paper


def _render(
    ctx: RunContext, papers: Sequence[Paper], keys: dict[str, str], flags: Sequence[MemoryFlag]
) -> str:
    """Render the ranking request without a reader: no profile, no relevance, no critique."""
    s = ctx.settings
    return ctx.prompts.render(
        "screener",
        "rank",
        round=1,
        must_read=s.must_read,
        notable=s.notable,
        candidates=[
            {**view(p, keys[p.arxiv_id], s.screener_abstract_words), "relevance": None} for p in papers
        ],
        critique=[],
        flags=flag_views(flags, keys),
        profile=None,
    )


def rubric_key(ctx: RunContext, paper: Paper, flags: Sequence[MemoryFlag]) -> str:
    """Key one paper's rubric by the model and the ranking request rendered for that paper alone (its
    memory flag included: a flag asks for lower scores)."""
    system = ctx.prompts.render("screener", "system")
    alone = _render(ctx, [paper], {paper.arxiv_id: "P001"}, flags)
    return work_key(ctx, "screener", "rubric", system, alone, ctx.constrained("screener"))


async def shared_rubric(
    ctx: RunContext, shortlist: Sequence[Paper], keys: dict[str, str], flags: Sequence[MemoryFlag]
) -> tuple[dict[str, RankEntry], list[LLMCall]]:
    """Return every shortlisted paper's rubric (by arXiv id) and the calls made: papers another run of
    the scope scored (or is scoring) are reused, the rest are asked in one call without the reader."""
    paper_keys = {p.arxiv_id: rubric_key(ctx, p, flags) for p in shortlist}
    rank_form = compact_rank_schema if ctx.constrained("screener") else rank_schema

    async def pay(ids: list[str]) -> tuple[dict[str, str], list[LLMCall]]:
        missing = [p for p in shortlist if p.arxiv_id in set(ids)]
        mkeys = {p.arxiv_id: keys[p.arxiv_id] for p in missing}
        out, calls = await ask(
            ctx,
            "screener",
            rank_form(list(mkeys.values())),
            [
                SystemMessage(ctx.prompts.render("screener", "system")),
                HumanMessage(_render(ctx, missing, mkeys, flags)),
            ],
            task=f"rubric of {len(missing)} papers (shared)",
        )
        by_key = rank_entries(out, list(mkeys.values()))
        return {pid: by_key[k].model_dump_json() for pid, k in mkeys.items()}, calls

    answers, calls = await once(ctx, "rubric", paper_keys, pay)
    return {pid: RankEntry.model_validate_json(v) for pid, v in answers.items()}, calls
