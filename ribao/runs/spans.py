"""A run's node tasks and LLM calls as spans on one time axis, built from the run log's rows.

The run log times node tasks (``started_at``, ``finished_at``) but not LLM calls: a call has only
its ``latency_s`` and ``created_at``, the moment its task's calls were recorded (when the task
ended). So a call's times are derived: the calls of one task ran one after another (re-asks follow
the rejected reply), the last ending when its task ended; each call lasts its latency and the one
before it ends where it starts. Such spans have ``derived=True``. A node task recorded without a
start (its start fell before a resume) starts ``duration_s``, else its calls' latencies, before its end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ribao.runs.rows import CallRow, NodeRow

SpanKind = Literal["node", "call"]


@dataclass(frozen=True)
class Span:
    """One node task or LLM call: times in UTC, tokens as the provider counted them, cost in `currency`.

    `span_id` is ``node-<seq>`` or ``call-<seq>`` (the row's recording order); a call's `parent_id`
    is its node task's span (None for a call with no recorded task, e.g. a replay's). `derived` says
    the start (and, for calls, the end) was computed rather than recorded (see the module docstring).
    """

    span_id: str
    parent_id: str | None
    name: str
    kind: SpanKind
    node: str
    task_id: str | None
    agent: str | None
    model: str | None
    start: dt.datetime
    end: dt.datetime
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost: float | None = None
    currency: str | None = None
    error: str | None = None
    derived: bool = False

    @property
    def seconds(self) -> float:
        """Duration in seconds."""
        return (self.end - self.start).total_seconds()


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _task_key(node: str, task_id: str | None) -> tuple[str, str | None]:
    """Key joining a call to its task: the task id, else (no task recorded) the node name."""
    return ("", task_id) if task_id else (node, None)


def node_span(row: NodeRow, calls: Sequence[CallRow] = ()) -> Span:
    """Return one node task's span; `calls` (its own) give its start when none was recorded."""
    end = _utc(row.finished_at)
    derived = row.started_at is None
    if row.started_at is not None:
        start = _utc(row.started_at)
    else:
        seconds = row.duration_s if row.duration_s is not None else sum(c.latency_s for c in calls)
        start = end - dt.timedelta(seconds=seconds)
    return Span(
        span_id=f"node-{row.seq}",
        parent_id=None,
        name=row.node,
        kind="node",
        node=row.node,
        task_id=row.task_id,
        agent=calls[0].agent if calls else None,
        model=calls[0].model if calls else None,
        start=start,
        end=end,
        input_tokens=sum(c.input_tokens for c in calls),
        output_tokens=sum(c.output_tokens for c in calls),
        cached_tokens=sum(c.cached_tokens for c in calls),
        cost=None if any(c.cost is None for c in calls) else sum(c.cost or 0.0 for c in calls),
        currency=calls[0].currency if calls else None,
        error=row.error,
        derived=derived,
    )


def call_spans(calls: Sequence[CallRow], parent: Span | None = None) -> list[Span]:
    """Return the spans of one task's `calls` (in recording order), laid back to back ending at the
    end of `parent`, none starting before `parent` does; without `parent`, each ends at its own
    ``created_at`` (e.g. a replay's calls, which ran side by side and were recorded at the end)."""
    if not calls:
        return []
    spans: list[Span] = []
    end = parent.end if parent else _utc(calls[-1].created_at)
    for call in reversed(calls):
        if parent is None:
            end = _utc(call.created_at)
        start = end - dt.timedelta(seconds=max(call.latency_s, 0.0))
        if parent is not None and start < parent.start:  # latencies overrun a recorded start: trust it
            start = max(parent.start, min(start, end))
        spans.append(
            Span(
                span_id=f"call-{call.seq}",
                parent_id=parent.span_id if parent else None,
                name=f"{call.agent} {call.task}",
                kind="call",
                node=call.node,
                task_id=call.task_id,
                agent=call.agent,
                model=call.model,
                start=start,
                end=end,
                input_tokens=call.input_tokens,
                output_tokens=call.output_tokens,
                cached_tokens=call.cached_tokens,
                cost=call.cost,
                currency=call.currency,
                error=call.error,
                derived=True,
            )
        )
        end = start
    return spans[::-1]


def run_spans(nodes: Sequence[NodeRow], calls: Sequence[CallRow]) -> list[Span]:
    """Return every node task and LLM call of a run as spans, ordered by start (ties: nodes first).

    A call joins the node task with its task id (or, recorded without one, the node named like it);
    calls that join no node task (a replay's) become top-level spans, each ending at its ``created_at``.
    """
    by_task: dict[tuple[str, str | None], list[CallRow]] = {}
    for call in calls:
        by_task.setdefault(_task_key(call.node, call.task_id), []).append(call)
    spans: list[Span] = []
    for row in nodes:
        mine = by_task.pop(_task_key(row.node, row.task_id), [])
        parent = node_span(row, mine)
        spans += [parent, *call_spans(mine, parent)]
    for orphans in by_task.values():
        spans += call_spans(orphans)
    return sorted(spans, key=lambda s: (s.start, s.kind != "node", s.span_id))


def bounds(spans: Sequence[Span]) -> tuple[dt.datetime, dt.datetime] | None:
    """Return the earliest start and latest end of `spans`, None for none."""
    if not spans:
        return None
    return min(s.start for s in spans), max(s.end for s in spans)
