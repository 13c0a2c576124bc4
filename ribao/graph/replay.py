"""Re-run one agent on the exact inputs a recorded run gave it, without touching that run or the memory."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Literal

from langgraph.runtime import Runtime

from ribao.agents.critic import critique_picks
from ribao.agents.editor import ask_lead
from ribao.agents.screener import screen_papers
from ribao.agents.triage import triage_batch
from ribao.agents.writer import write_summary
from ribao.calls import LLMCall
from ribao.context import RunContext
from ribao.errors import RibaoError
from ribao.graph.builder import compile_graph
from ribao.graph.checkpoint import open_checkpointer
from ribao.graph.routing import dispatch_writers, route_after_recall
from ribao.state import DigestState

ReplayAgent = Literal["screener", "critic", "writer", "editor"]
_NODE = {"screener": "screen_papers", "critic": "critique_picks"}


@dataclass
class ReplayOutcome:
    """The recorded output of one agent beside the new one, with the LLM calls behind each.

    `recorded`/`new` hold, per agent: ``picks`` (screener), ``critique`` (critic), ``summaries``
    keyed by arXiv id (writer) or ``lead`` (editor).
    """

    agent: str
    recorded: dict[str, Any]
    new: dict[str, Any]
    recorded_calls: list[LLMCall] = field(default_factory=list)
    new_calls: list[LLMCall] = field(default_factory=list)


class ReplayError(RibaoError):
    """The run has no recorded input for that agent (e.g. it failed before the agent ran)."""


async def recorded_history(ctx: RunContext, run_id: str) -> list[Any]:
    """Return the run's checkpoint snapshots, oldest first; raises `ReplayError` when there are none."""
    async with open_checkpointer(ctx.settings.home / "checkpoints.sqlite") as saver:
        graph = compile_graph(checkpointer=saver)
        history = [s async for s in graph.aget_state_history({"configurable": {"thread_id": run_id}})]
    if not history:
        raise ReplayError(f"run {run_id} has no checkpoints in {ctx.settings.home / 'checkpoints.sqlite'}")
    return list(reversed(history))


def _before(history: list[Any], node: str) -> DigestState:
    """The state just before the first time `node` ran."""
    for snap in history:
        if node in snap.next:
            return snap.values  # type: ignore[no-any-return]
    raise ReplayError(f"the run never reached {node}")


def _after(history: list[Any], node: str) -> DigestState:
    """The state just after the first time `node` ran."""
    seen = False
    for snap in history:
        if seen:
            return snap.values  # type: ignore[no-any-return]
        seen = node in snap.next
    raise ReplayError(f"the run did not finish {node}")


async def replay_agent(
    agent: ReplayAgent, run_id: str, ctx: RunContext, *, history: list[Any] | None = None
) -> ReplayOutcome:
    """Re-run `agent` on run `run_id`'s recorded inputs with `ctx` (its models and prompts).

    The screener and critic replay their first round; the writer replays every pick of the
    final digest; the editor replays the lead. Nothing is written: no checkpoint, no output
    file, no memory (`ctx.memory` should be None).
    """
    history = history or await recorded_history(ctx, run_id)
    final: DigestState = history[-1].values
    runtime = Runtime(context=ctx)
    recorded_calls = [c for c in final.get("llm_calls", []) if c.agent == agent]
    if agent in _NODE:
        node = _NODE[agent]
        state_in, state_out = _before(history, node), _after(history, node)
        triage_calls: list[Any] = []
        if agent == "screener":  # the triage batches are part of the screener's first round
            state_in = {**state_in, "triage_scores": {}}  # type: ignore[typeddict-item]
            sends = route_after_recall(state_in, ctx.settings.screener_batch_size)
            tasks = [s.arg for s in sends] if isinstance(sends, list) else []
            outs = await asyncio.gather(*(triage_batch(t, runtime) for t in tasks))
            state_in["triage_scores"] = {k: v for o in outs for k, v in o["triage_scores"].items()}
            triage_calls = [c for o in outs for c in o["llm_calls"]]
        fn = screen_papers if agent == "screener" else critique_picks
        out = await fn(state_in, runtime)
        out = {**out, "llm_calls": [*triage_calls, *out["llm_calls"]]}
        if agent == "screener":
            recorded: dict[str, Any] = {"picks": state_out["picks"]}
            new: dict[str, Any] = {"picks": out["picks"]}
            recorded_calls = [
                c for c in recorded_calls if c.task.startswith("triage") or "round 1 " in f"{c.task} "
            ]
        else:
            recorded = {"critique": state_out["critiques"][0]}
            new = {"critique": out["critiques"][0]}
            recorded_calls = [c for c in recorded_calls if c.task.startswith("critique round 1")]
        return ReplayOutcome(agent, recorded, new, recorded_calls, out["llm_calls"])
    if agent == "writer":
        if "summaries" not in final or "picks" not in final:
            raise ReplayError(f"run {run_id} did not reach the writers")
        tasks = [send.arg for send in dispatch_writers(final)]
        outs = await asyncio.gather(*(write_summary(task, runtime) for task in tasks))
        summaries = {pid: s for out in outs for pid, s in out["summaries"].items()}
        calls = [c for out in outs for c in out["llm_calls"]]
        return ReplayOutcome(
            agent, {"summaries": final["summaries"]}, {"summaries": summaries}, recorded_calls, calls
        )
    if "lead" not in final:
        raise ReplayError(f"run {run_id} has no editor lead to replay")
    lead, calls = await ask_lead(final, ctx)
    return ReplayOutcome(agent, {"lead": final["lead"]}, {"lead": lead}, recorded_calls, calls)
