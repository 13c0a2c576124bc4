"""The screener: rank a shortlist of the triaged candidates, tier the top picks, then give their reasons."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from ribao.agents.ask import ask
from ribao.agents.candidates import candidate_keys, flag_views, view
from ribao.agents.outputs import (
    LOCAL_REASON_CHARS,
    RankEntry,
    compact_rank_schema,
    digit_free,
    rank_entries,
    rank_schema,
    reasons_schema,
)
from ribao.agents.rubric import shared_rubric
from ribao.calls import LLMCall
from ribao.context import RunContext
from ribao.errors import NothingToScreen, RibaoError
from ribao.profiles.run import Relevance, RunProfile, relevance_view, rubric_quality, triage_quality
from ribao.schemas import Paper, Pick, Ranked, ReaderCut, RubricScores, Shortlisted
from ribao.state import DigestState, eligible

if TYPE_CHECKING:
    from ribao.settings import Settings


async def rank_papers(state: DigestState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Rank the shortlist (best triage scores, from the `triage_batch` tasks) into this round's tiers.

    Returns `ranking` (must-reads then notables, rank 1..K, without reasons: `write_reasons` adds
    them in the next step, so a resumed run never asks for this ranking again), the `shortlist` and,
    with a profile, the `reader_cut` it was cut by, `screen_rounds` and the `llm_calls` made.
    Raises `LLMOutputError` via the structured call.
    """
    ctx = runtime.context
    papers = eligible(state)
    if not papers:
        raise NothingToScreen(
            "nothing to screen: every candidate of the day was featured in an earlier digest"
        )
    scores = state.get("triage_scores", {})
    missing = [p.arxiv_id for p in papers if p.arxiv_id not in scores]
    if missing:  # the graph runs every triage batch first; this guards the wiring
        raise RibaoError(f"rank_papers: {len(missing)} candidates have no triage score, e.g. {missing[0]}")
    listed = shortlist(papers, scores, state, ctx.settings, ctx.profile)
    if not listed and ctx.profile is not None:
        raise NothingToScreen(
            f"nothing to screen: no candidate reaches profile {ctx.profile.name}'s relevance floor "
            f"{ctx.profile.floor:g}"
        )
    round_no = state.get("screen_rounds", 0) + 1
    ranking, rubric, calls = await _rank(ctx, listed, candidate_keys(papers), scores, state, round_no)
    cut = shortlist_size(ctx.settings)
    # Recorded for `ribao runs why`: who made the cut, and who came in as the critic's replacement.
    listed_record = [
        Shortlisted(arxiv_id=p.arxiv_id, triage_score=scores[p.arxiv_id], scores=rubric[p.arxiv_id],
                    by_critic=i >= cut)
        for i, p in enumerate(listed)
    ]  # fmt: skip
    return {
        "ranking": ranking,
        "shortlist": listed_record,
        "reader_cut": reader_cut(papers, scores, ctx.profile),
        "screen_rounds": round_no,
        "llm_calls": calls,
    }


def reader_cut(
    papers: Sequence[Paper], scores: Mapping[str, int], profile: RunProfile | None
) -> ReaderCut | None:
    """Return how `for_reader` ordered `papers` for the profile (None without one), for `runs why`."""
    if profile is None:
        return None
    rel = profile.relevance(papers)
    blended = {
        p.arxiv_id: round(profile.blend(triage_quality(scores[p.arxiv_id]), rel.get(p.arxiv_id)), 4)
        for p in papers
        if profile.passes(rel.get(p.arxiv_id))
    }
    return ReaderCut(profile=profile.name, floor=profile.floor, weight=profile.weight,
                     relevance={k: round(r.score, 4) for k, r in rel.items()}, blended=blended)  # fmt: skip


async def write_reasons(state: DigestState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Give each paper of the round's `ranking` its 推荐理由 in one structured call.

    Returns `picks` (the ranking, in its order, with reasons) and the `llm_calls` made. Raises
    `LLMOutputError` via the structured call.
    """
    ctx = runtime.context
    ranking = state["ranking"]
    papers = eligible(state)
    keys = candidate_keys(papers)
    by_id = {p.arxiv_id: p for p in papers}
    words = ctx.settings.screener_abstract_words
    rel = ctx.profile.relevance([by_id[r.arxiv_id] for r in ranking]) if ctx.profile else {}
    prompt = ctx.prompts.render(
        "screener",
        "reasons",
        candidates=[
            {
                **view(by_id[r.arxiv_id], keys[r.arxiv_id], words),
                **relevance_view(rel, r.arxiv_id),
                "tier": r.tier,
            }
            for r in ranking
        ],
        profile=ctx.profile.prompt_view() if ctx.profile else None,
    )
    system = ctx.prompts.render("screener", "system")
    schema = reasons_schema([keys[r.arxiv_id] for r in ranking])
    reasons, calls = await ask(
        ctx,
        "screener",
        digit_free(schema, LOCAL_REASON_CHARS) if ctx.constrained("screener") else schema,
        [SystemMessage(system), HumanMessage(prompt)],
        task=f"reasons round {state['screen_rounds']}",
    )
    picks = [Pick(**dict(r), reason=getattr(reasons, keys[r.arxiv_id]).strip()) for r in ranking]
    return {"picks": picks, "llm_calls": calls}


def by_triage_score(papers: Sequence[Paper], scores: Mapping[str, int]) -> list[Paper]:
    """Return `papers` best triage score first; ties keep listing order (completion order never matters)."""
    order = sorted(range(len(papers)), key=lambda i: (-scores[papers[i].arxiv_id], i))
    return [papers[i] for i in order]


def for_reader(papers: Sequence[Paper], scores: Mapping[str, int], profile: RunProfile | None) -> list[Paper]:
    """Return `papers` best first for the run's reader: by triage score without a profile, else by
    triage blended with relevance (`RunProfile.blend`), papers under the relevance floor left out."""
    if profile is None:
        return by_triage_score(papers, scores)
    rel = profile.relevance(papers)
    kept = [(i, p) for i, p in enumerate(papers) if profile.passes(rel.get(p.arxiv_id))]

    def key(item: tuple[int, Paper]) -> tuple[float, int]:
        i, p = item
        return (-profile.blend(triage_quality(scores[p.arxiv_id]), rel.get(p.arxiv_id)), i)

    return [p for _, p in sorted(kept, key=key)]


def shortlist(
    papers: list[Paper],
    scores: Mapping[str, int],
    state: DigestState,
    s: Settings,
    profile: RunProfile | None = None,
) -> list[Paper]:
    """Best first for the reader (`for_reader`), minus picks the critic asked to replace,
    plus the replacements it suggested; never shorter than the number of picks needed.

    Pure (the same state gives the same list): `flag_near_duplicates` flags exactly what this returns.
    """
    dropped = {d.arxiv_id for c in state.get("critiques", []) for d in c.decisions if d.decision == "replace"}
    suggested = [
        d.replacement
        for c in state.get("critiques", [])
        for d in c.decisions
        if d.decision == "replace" and d.replacement and d.replacement not in dropped
    ]
    ranked = [p for p in for_reader(papers, scores, profile) if p.arxiv_id not in dropped]
    chosen = ranked[: shortlist_size(s)]
    by_id = {p.arxiv_id: p for p in ranked}
    for pid in suggested:
        if pid in by_id and by_id[pid] not in chosen:
            chosen.append(by_id[pid])
    return chosen


def shortlist_size(s: Settings) -> int:
    """Return how many papers make the shortlist by score (the critic's replacements come on top)."""
    return max(s.shortlist_factor * (s.must_read + s.notable), s.must_read + s.notable)


async def _rank(
    ctx: RunContext,
    shortlist: list[Paper],
    keys: dict[str, str],
    scores: dict[str, int],
    state: DigestState,
    round_no: int,
) -> tuple[list[Ranked], dict[str, RubricScores], list[LLMCall]]:
    """Ask for the shortlist's rubric scores; return the best K, tiered, every shortlisted paper's rubric
    and the calls made."""
    s = ctx.settings
    profile = ctx.profile
    rel = profile.relevance(shortlist) if profile else {}
    skeys = {p.arxiv_id: keys[p.arxiv_id] for p in shortlist}
    last = state.get("critiques", [])[-1:] or []
    critique = [
        {
            **d.model_dump(),
            "key": keys.get(d.arxiv_id, d.arxiv_id),
            "replacement": keys.get(d.replacement or ""),
        }
        for c in last
        for d in c.decisions
    ]
    if ctx.shared is not None and not critique:
        # A day run's first round: the rubric is general quality, paid once per paper for every
        # profile; this reader's relevance enters through the blend below (README "Several profiles").
        entries, calls = await shared_rubric(ctx, shortlist, skeys, state.get("memory_flags", []))
    else:
        entries, calls = await _ask_rubric(ctx, shortlist, skeys, rel, critique, state, round_no)
    position = {p.arxiv_id: i for i, p in enumerate(shortlist)}
    entries = {p.arxiv_id: entries[p.arxiv_id] for p in shortlist}  # shortlist order, as asked

    def order(pid: str) -> tuple[float, int, int]:
        e = entries[pid]
        total = e.novelty + e.impact + e.rigor
        blended = profile.blend(rubric_quality(total), rel.get(pid)) if profile else total
        return (-blended, -scores[pid], position[pid])

    chosen = sorted(entries, key=order)[: min(s.must_read + s.notable, len(shortlist))]
    ranking = [
        Ranked(
            arxiv_id=pid,
            rank=rank,
            tier="must_read" if rank <= s.must_read else "notable",
            scores=RubricScores(
                novelty=entries[pid].novelty, impact=entries[pid].impact, rigor=entries[pid].rigor
            ),
            triage_score=scores[pid],
            relevance=rel[pid].score if pid in rel else None,
            why=list(rel[pid].reasons) if pid in rel else [],
        )
        for rank, pid in enumerate(chosen, start=1)
    ]
    rubric = {
        pid: RubricScores(novelty=e.novelty, impact=e.impact, rigor=e.rigor) for pid, e in entries.items()
    }
    return ranking, rubric, calls


async def _ask_rubric(
    ctx: RunContext,
    shortlist: list[Paper],
    skeys: dict[str, str],
    rel: Mapping[str, Relevance],
    critique: list[dict[str, Any]],
    state: DigestState,
    round_no: int,
) -> tuple[dict[str, RankEntry], list[LLMCall]]:
    """Ask for the shortlist's rubric with this reader's profile, relevance and the critic's notes."""
    s = ctx.settings
    profile = ctx.profile
    user = ctx.prompts.render(
        "screener",
        "rank",
        round=round_no,
        must_read=s.must_read,
        notable=s.notable,
        candidates=[
            {**view(p, skeys[p.arxiv_id], s.screener_abstract_words), **relevance_view(rel, p.arxiv_id)}
            for p in shortlist
        ],
        critique=critique,
        flags=flag_views(state.get("memory_flags", []), skeys),
        profile=profile.prompt_view() if profile else None,
    )
    system = ctx.prompts.render("screener", "system")
    rank_form = compact_rank_schema if ctx.constrained("screener") else rank_schema
    out, calls = await ask(
        ctx,
        "screener",
        rank_form(list(skeys.values())),
        [SystemMessage(system), HumanMessage(user)],
        task=f"rank round {round_no}",
    )
    by_key = rank_entries(out, list(skeys.values()))
    return {pid: by_key[key] for pid, key in skeys.items()}, calls
