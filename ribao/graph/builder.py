"""Wire the nodes into the StateGraph of DESIGN.md (wiring only)."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from ribao.agents.critic import critique_picks
from ribao.agents.editor import write_digest, write_lead
from ribao.agents.screener import rank_papers, write_reasons
from ribao.agents.triage import triage_batch
from ribao.agents.writer import write_summary
from ribao.context import RunContext
from ribao.graph.nodes import (
    deliver,
    fetch_fulltext,
    fetch_listing,
    fetch_stars,
    flag_near_duplicates,
    recall_memory,
    remember_digest,
)
from ribao.graph.routing import dispatch_writers, route_after_critique, route_after_recall
from ribao.registry import NODES
from ribao.state import DigestState, RunInput, TriageTask, WriterTask


def _route_after_recall(state: DigestState) -> Any:
    """`route_after_recall` with the batch size from the run's context."""
    from langgraph.runtime import get_runtime

    return route_after_recall(state, get_runtime(RunContext).context.settings.screener_batch_size)


def build_graph() -> StateGraph[DigestState, RunContext, RunInput, DigestState]:
    """Return the uncompiled graph.

    fetch → recall → triage×batches → (flag → rank → reasons ⇄ critique) → full text → write×picks → lead →
    stars → digest → remember → deliver. Each node is named after its function; raises `TypeError`
    when they are not `ribao.registry.NODES`.
    """
    g: StateGraph[DigestState, RunContext, RunInput, DigestState] = StateGraph(
        DigestState, context_schema=RunContext, input_schema=RunInput
    )
    g.add_node(fetch_listing)
    g.add_node(recall_memory)
    g.add_node(triage_batch, input_schema=TriageTask)  # type: ignore[call-overload]
    g.add_node(flag_near_duplicates)
    # Two nodes, so the ranking is checkpointed before the reasons are asked for.
    g.add_node(rank_papers)
    g.add_node(write_reasons)
    g.add_node(critique_picks)
    g.add_node(fetch_fulltext)
    g.add_node(write_summary, input_schema=WriterTask)  # type: ignore[call-overload]
    g.add_node(write_lead)
    g.add_node(fetch_stars)
    g.add_node(write_digest)
    g.add_node(remember_digest)
    g.add_node(deliver)
    check_nodes(g)
    g.add_edge(START, "fetch_listing")
    g.add_edge("fetch_listing", "recall_memory")
    g.add_conditional_edges("recall_memory", _route_after_recall, ["triage_batch", "flag_near_duplicates"])
    g.add_edge("triage_batch", "flag_near_duplicates")
    g.add_edge("flag_near_duplicates", "rank_papers")
    g.add_edge("rank_papers", "write_reasons")
    g.add_edge("write_reasons", "critique_picks")
    g.add_conditional_edges(
        "critique_picks", route_after_critique, ["flag_near_duplicates", "fetch_fulltext"]
    )
    g.add_conditional_edges("fetch_fulltext", dispatch_writers, ["write_summary"])
    g.add_edge("write_summary", "write_lead")
    g.add_edge("write_lead", "fetch_stars")
    g.add_edge("fetch_stars", "write_digest")
    g.add_edge("write_digest", "remember_digest")
    g.add_edge("remember_digest", "deliver")
    g.add_edge("deliver", END)
    return g


def check_nodes(graph: StateGraph[Any, Any, Any, Any]) -> None:
    """Raise `TypeError` unless `graph` has exactly the nodes of `ribao.registry.NODES`, in that order."""
    added = tuple(graph.nodes)
    if added != NODES:
        raise TypeError(
            f"the graph's nodes {', '.join(added)} are not ribao.registry.NODES {', '.join(NODES)}"
            " (list a new node there, in pipeline order)"
        )


def compile_graph(checkpointer: Any = None) -> Any:
    """Compile the graph, optionally with a checkpointer (a thread per run id)."""
    return build_graph().compile(checkpointer=checkpointer)
