"""The spans of a recorded run: node tasks and LLM calls on one time axis, calls timed from latencies."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ribao.calls import LLMCall
from ribao.runs import RunLog
from ribao.runs.spans import bounds, run_spans
from tests.support.runs import RUN_A, RUN_B, populate

T0 = dt.datetime(2026, 2, 18, 8, 0, tzinfo=dt.UTC)


def test_every_node_task_and_call_is_a_span_with_its_parent(tmp_path: Path) -> None:
    populate(tmp_path)
    with RunLog.open(tmp_path) as log:
        nodes, calls = log.nodes(RUN_A), log.calls(RUN_A)
    spans = run_spans(nodes, calls)
    assert len(spans) == len(nodes) + len(calls)
    by_id = {s.span_id: s for s in spans}
    write = [s for s in spans if s.kind == "call" and s.agent == "writer"]
    # Two calls of task t-write-1 (a re-ask, then the accepted reply), back to back ending at the task's end.
    first, retry = write[0], write[1]
    parent = by_id[first.parent_id or ""]
    assert parent.kind == "node" and parent.task_id == "t-write-1" and retry.parent_id == parent.span_id
    assert retry.end == parent.end and retry.start == parent.end - dt.timedelta(seconds=0.25)
    assert first.end == retry.start and first.error == "background: too short" and first.derived
    assert parent.input_tokens == 1500 + 1600 and parent.agent == "writer" and not parent.derived
    assert parent.start == T0 + dt.timedelta(seconds=6) and parent.seconds == 1.0
    assert all(s.start >= by_id[s.parent_id].start for s in spans if s.parent_id)
    assert [s.start for s in spans] == sorted(s.start for s in spans)
    assert bounds(spans) == (T0, T0 + dt.timedelta(seconds=10))
    fetch = by_id["node-1"]
    assert fetch.name == "fetch_listing" and fetch.agent is None and fetch.cost == 0.0


def test_a_failed_runs_spans_and_a_task_without_a_recorded_start(tmp_path: Path) -> None:
    populate(tmp_path)
    with RunLog.open(tmp_path) as log:
        log.record_node(
            RUN_B,
            node="write_summary",
            task_id="t-late",
            started_at=None,
            finished_at=T0 + dt.timedelta(seconds=9),
            error="LLMOutputError: broke the schema",
        )
        log.record_calls(
            RUN_B,
            "write_summary",
            [
                LLMCall(
                    agent="writer",
                    model="m",
                    task="x",
                    messages=[],
                    raw="",
                    latency_s=1.5,
                    error="no tool call",
                )
            ],
            task_id="t-late",
        )
        spans = run_spans(log.nodes(RUN_B), log.calls(RUN_B))
    late = next(s for s in spans if s.task_id == "t-late" and s.kind == "node")
    assert late.derived and late.seconds == 1.5 and late.error == "LLMOutputError: broke the schema"
    assert late.cost is None  # the call was not priced


def test_calls_without_a_node_task_are_top_level_spans(tmp_path: Path) -> None:
    populate(tmp_path)
    with RunLog.open(tmp_path) as log:
        log.start_run("R", settings={}, date=None)
        log.record_calls(
            "R",
            "writer",
            [
                LLMCall(agent="writer", model="m", task=t, messages=[], raw="", latency_s=2.0)
                for t in ("a", "b")
            ],
        )
        calls = log.calls("R")
    spans = run_spans([], calls)
    assert [s.parent_id for s in spans] == [None, None]
    assert all(s.end == c.created_at and s.seconds == 2.0 for s, c in zip(spans, calls, strict=True))
