"""Re-run one agent on the exact inputs a recorded run gave it, without touching that run or the memory.

A run's checkpoints (LangGraph's state history of its thread in `<home>/checkpoints.sqlite`)
hold the state before every step and each finished task's result. A replay copies the checkpoint
at which the agent's first node was next (`ReplaySpec.start` in `ribao.registry`) into an
in-memory checkpointer, without that step's saved task results, so the graph itself runs the
agent's nodes again, with the new models and prompts, up to and including its `stop` node. The two
stretches of history, recorded and replayed, are then read the same way: what the agent's nodes
wrote to its `output` key, and the LLM calls they made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import StateSnapshot

from ribao.calls import LLMCall
from ribao.context import RunContext
from ribao.errors import ReplayError
from ribao.graph.builder import compile_graph
from ribao.graph.checkpoint import open_checkpointer, serializer
from ribao.registry import AGENTS, REGISTRY, ReplaySpec
from ribao.runs.backend import checkpoint_target, shown


@dataclass
class ReplayOutcome:
    """The recorded output of one agent beside the new one, with the LLM calls behind each.

    `recorded`/`new` map the agent's output key (`ReplaySpec.output`) to what its nodes wrote:
    ``picks`` (screener, first round), ``critiques`` (critic: a list with the first round's
    critique), ``summaries`` keyed by arXiv id (writer, every pick of the digest) or ``lead``
    (editor; None when the run's `editor_lead` was off).
    """

    agent: str
    recorded: dict[str, Any]
    new: dict[str, Any]
    recorded_calls: list[LLMCall] = field(default_factory=list)
    new_calls: list[LLMCall] = field(default_factory=list)


def spec_of(agent: str) -> ReplaySpec:
    """Return the replay spec of `agent`; raises `ReplayError` for an unknown agent."""
    if agent not in REGISTRY:
        raise ReplayError(f"unknown agent {agent!r}; known: {', '.join(AGENTS)}")
    return REGISTRY[agent].replay


async def _history(graph: Any, thread_id: str) -> list[StateSnapshot]:
    """Return the thread's state snapshots, oldest first (`get_state_history` gives newest first)."""
    config = {"configurable": {"thread_id": thread_id}}
    return list(reversed([s async for s in graph.aget_state_history(config)]))


def _stretch(history: list[StateSnapshot], spec: ReplaySpec) -> tuple[StateSnapshot, Any, list[LLMCall]]:
    """Return the snapshot the agent's stretch of `history` starts from, what its `stop` tasks wrote
    to `spec.output`, and every LLM call of its tasks; raises `ReplayError` when it is not there."""
    start = next((i for i, s in enumerate(history) if set(spec.start) & set(s.next)), None)
    if start is None:
        raise ReplayError(f"the run never reached {spec.start[0]}")
    stop = next((i for i in range(start, len(history)) if spec.stop in history[i].next), None)
    if stop is None:
        raise ReplayError(f"the run did not finish {spec.stop}")
    tasks = [t for s in history[start : stop + 1] for t in s.tasks]
    results: list[dict[str, Any]] = [t.result for t in tasks if isinstance(t.result, dict)]
    if len(results) < len(tasks):  # a task of the stretch failed, or never ran
        raise ReplayError(f"the run did not finish {spec.stop}")
    calls = [c for r in results for c in r.get("llm_calls", [])]
    written = [r[spec.output] for t, r in zip(tasks, results, strict=True) if t.name == spec.stop]
    # Parallel tasks (one writer per pick) each write their own entries of one dict.
    output = written[0] if len(written) == 1 else {k: v for part in written for k, v in part.items()}
    return history[start], output, calls


async def replay_agent(agent: str, run_id: str, ctx: RunContext) -> ReplayOutcome:
    """Re-run `agent` on run `run_id`'s recorded inputs with `ctx` (its models and prompts).

    The screener and critic replay their first round; the writer replays every pick of the
    final digest; the editor replays the lead (see `ribao.registry`). Nothing is written: no
    checkpoint, no output file, no memory (`ctx.memory` should be None). Raises `ReplayError`.
    """
    spec = spec_of(agent)
    path = checkpoint_target(ctx.settings.home, ctx.settings.store.url)
    where = shown(path) if isinstance(path, str) else path
    if isinstance(path, Path) and not path.is_file():
        raise ReplayError(f"run {run_id} has no checkpoints in {where}")
    async with open_checkpointer(path) as saver:
        recorded = await _history(compile_graph(checkpointer=saver), run_id)
        if not recorded:
            raise ReplayError(f"run {run_id} has no checkpoints in {where}")
        start, recorded_output, recorded_calls = _stretch(recorded, spec)
        checkpoint = await saver.aget_tuple(start.config)
    assert checkpoint is not None  # the snapshot was just read from this saver
    fork = InMemorySaver(serde=serializer())
    thread: RunnableConfig = {"configurable": {"thread_id": ctx.run_id, "checkpoint_ns": ""}}
    saved = checkpoint.checkpoint
    await fork.aput(thread, saved, checkpoint.metadata, saved["channel_versions"])
    graph = compile_graph(checkpointer=fork)
    # The thread's latest checkpoint is the copy, so this continues from it (no fork of it).
    await graph.ainvoke(None, thread, context=ctx, interrupt_after=[spec.stop])
    _, new_output, new_calls = _stretch(await _history(graph, ctx.run_id), spec)
    return ReplayOutcome(
        agent, {spec.output: recorded_output}, {spec.output: new_output}, recorded_calls, new_calls
    )


#: Where an experiment's replay stops: before the GitHub stars, the digest files, the memory and push.
EXPERIMENT_STOP = "fetch_stars"


@dataclass
class DownstreamOutcome:
    """A replay from the first chosen agent to the end of the editor's lead: the state it ended in,
    and the LLM calls the replay made (the recorded calls before its start are not among them)."""

    values: dict[str, Any]
    new_calls: list[LLMCall]


def first_agent(agents: list[str]) -> str:
    """Return the earliest of `agents` in pipeline order; raises `ReplayError` for an unknown one."""
    for agent in agents:
        spec_of(agent)
    return min(agents, key=AGENTS.index)


async def replay_downstream(
    agents: list[str], run_id: str, ctx: RunContext, *, recursion_limit: int
) -> DownstreamOutcome:
    """Re-run the first of `agents` and everything after it on run `run_id`'s recorded inputs with `ctx`.

    The graph continues from the recorded checkpoint where the first agent started (`ReplaySpec.start`)
    in an in-memory copy, every later critic round included, and stops before `EXPERIMENT_STOP`:
    no digest file, no memory, no push, no checkpoint. Raises `ReplayError` when the run has no
    checkpoints (deleted) or never reached that agent.
    """
    spec = spec_of(first_agent(agents))
    path = ctx.settings.home / "checkpoints.sqlite"
    if not path.is_file():
        raise ReplayError(f"run {run_id} has no checkpoints in {path}")
    async with open_checkpointer(path) as saver:
        recorded = await _history(compile_graph(checkpointer=saver), run_id)
        if not recorded:
            raise ReplayError(f"run {run_id} has no checkpoints in {path}")
        start = next((s for s in recorded if set(spec.start) & set(s.next)), None)
        if start is None:
            raise ReplayError(f"run {run_id} never reached {spec.start[0]}")
        checkpoint = await saver.aget_tuple(start.config)
    assert checkpoint is not None  # the snapshot was just read from this saver
    before = len(start.values.get("llm_calls", []))
    fork = InMemorySaver(serde=serializer())
    thread: RunnableConfig = {
        "configurable": {"thread_id": ctx.run_id, "checkpoint_ns": ""},
        "recursion_limit": recursion_limit,
    }
    saved = checkpoint.checkpoint
    await fork.aput(thread, saved, checkpoint.metadata, saved["channel_versions"])
    graph = compile_graph(checkpointer=fork)
    # "exit": one checkpoint at the end, not one per step (the state, calls included, is re-serialised
    # at each), so replays running side by side spend their CPU on the graph, not on copies of it.
    await graph.ainvoke(None, thread, context=ctx, interrupt_before=[EXPERIMENT_STOP], durability="exit")
    values = dict((await graph.aget_state(thread)).values)
    # The calls are a list the nodes append to: the recorded ones before the start come first.
    return DownstreamOutcome(values, list(values.get("llm_calls", []))[before:])
