"""The critic: check each pick against the shortlist; keep it or name a better replacement."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from ribao.agents.ask import ask
from ribao.agents.candidates import candidate_keys, flag_views, replaced_ids, view
from ribao.agents.outputs import critique_schema
from ribao.agents.screener import for_reader
from ribao.context import RunContext
from ribao.profiles.run import relevance_view
from ribao.schemas import CriticDecision, Critique
from ribao.state import DigestState, eligible

ALTERNATES = 15


async def critique_picks(state: DigestState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Review the current picks once; append a `Critique` and bump `critic_rounds`.

    Papers replaced in an earlier round are not offered again. The verdict is ``revise`` when any
    pick gets ``replace``; a replace beyond the unpicked candidates left (none on a listing smaller
    than the picks) is recorded as ``keep``. On the last allowed round (`max_critic_rounds`) a
    revise is recorded with ``capped=True`` and the loop ends.
    """
    ctx = runtime.context
    papers = eligible(state)
    keys = candidate_keys(papers)
    by_id = {p.arxiv_id: p for p in papers}
    picks = state["picks"]
    picked = {p.arxiv_id for p in picks}
    # A paper replaced in an earlier round is out for good: offering it again invites a loop.
    out_of_play = picked | replaced_ids(state.get("critiques", []))
    in_play = [p for p in papers if p.arxiv_id not in out_of_play]
    scores = state.get("triage_scores", {})
    profile = ctx.profile
    if profile is not None:  # best for the reader first; papers under the reader's floor cannot come in
        await profile.prepare(papers)
        in_play = for_reader(in_play, scores, profile)
    else:
        in_play = sorted(in_play, key=lambda p: -scores.get(p.arxiv_id, 0))
    alternates = in_play[:ALTERNATES]
    rel = profile.relevance([*(by_id[p.arxiv_id] for p in picks), *alternates]) if profile else {}
    key_to_id = {keys[p.arxiv_id]: p.arxiv_id for p in papers}
    round_no = state.get("critic_rounds", 0) + 1
    user = ctx.prompts.render(
        "critic",
        "user",
        round=round_no,
        picks=[
            {
                **view(by_id[p.arxiv_id], keys[p.arxiv_id], ctx.settings.screener_abstract_words),
                "rank": p.rank,
                "tier": p.tier,
                "reason": p.reason,
                **relevance_view(rel, p.arxiv_id),
            }
            for p in picks
        ],
        alternates=[
            {
                **view(p, keys[p.arxiv_id], ctx.settings.screener_abstract_words),
                **relevance_view(rel, p.arxiv_id),
            }
            for p in alternates
        ],
        flags=flag_views(state.get("memory_flags", []), keys),
        profile=profile.prompt_view() if profile else None,
    )
    pick_keys = [keys[p.arxiv_id] for p in picks]
    out, calls = await ask(
        ctx,
        "critic",
        critique_schema(pick_keys, [keys[p.arxiv_id] for p in alternates], local=ctx.constrained("critic")),
        [SystemMessage(ctx.prompts.render("critic", "system")), HumanMessage(user)],
        task=f"critique round {round_no}",
    )
    decisions = []
    claimed: set[str] = set()
    # A replacement needs an alternate: each replace uses up one unpicked candidate (named or left
    # to the screener), so a small listing can never lose picks it cannot refill.
    spare = len(in_play)
    for p, key in zip(picks, pick_keys, strict=True):
        entry = getattr(out, key)
        decision, reason = entry.decision, entry.reason.strip()
        replacement = key_to_id.get(entry.replacement) if decision == "replace" else None
        if replacement in claimed:  # two picks cannot both be replaced by the same paper
            replacement = None
        if decision == "replace" and spare <= 0:
            decision, replacement, reason = "keep", None, f"{reason}（无可替换的候选，保留）"
        elif decision == "replace":
            spare -= 1
        if replacement:
            claimed.add(replacement)
        decisions.append(
            CriticDecision(arxiv_id=p.arxiv_id, decision=decision, reason=reason, replacement=replacement)
        )
    revise = any(d.decision == "replace" for d in decisions)
    capped = revise and round_no >= state["max_critic_rounds"]
    critique = Critique(
        round=round_no, verdict="revise" if revise else "accept", decisions=decisions, capped=capped
    )
    return {"critiques": [critique], "critic_rounds": round_no, "llm_calls": calls}
