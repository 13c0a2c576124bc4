"""The node list is stated once (`ribao.registry.NODES`); the builder, trace and replay specs follow it."""

from __future__ import annotations

from typing import Any

import pytest

from ribao.graph.builder import build_graph, check_nodes
from ribao.registry import NODES, REGISTRY, ReplaySpec
from ribao.runs.trace import DESCRIBE


def test_the_builder_adds_exactly_the_listed_nodes_in_their_order() -> None:
    assert tuple(build_graph().nodes) == NODES


def test_a_node_added_to_the_builder_but_not_the_list_fails() -> None:
    graph = build_graph()

    def summarise_day(state: Any) -> dict[str, Any]:
        return {}

    graph.add_node(summarise_day)
    with pytest.raises(TypeError, match=r"summarise_day are not ribao\.registry\.NODES"):
        check_nodes(graph)


def test_the_trace_describes_every_listed_node_and_no_other() -> None:
    assert tuple(DESCRIBE) == NODES


def test_a_replay_spec_may_name_only_listed_nodes() -> None:
    assert all({*a.replay.start, a.replay.stop} <= set(NODES) for a in REGISTRY.values())
    with pytest.raises(TypeError, match=r"\['screen_papers'\], not nodes of the graph"):
        ReplaySpec(start=("triage_batch",), stop="screen_papers", output="picks")
