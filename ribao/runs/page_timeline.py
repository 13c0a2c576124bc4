"""The run page's timeline: every node task and LLM call on one time axis (`ribao.runs.spans`).

Node tasks are packed into lanes (a task goes to the first lane free when it starts), so tasks that
ran at once sit on separate lanes; a task's LLM calls are drawn inside its bar. The critical path
is the chain of tasks that set the run's length: from the task that ended last, each step back is
the task that ended last before it started.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ribao.runs.spans import Span

WIDTH, LANE, AXIS, PAD = 1000, 20, 22, 4


def lanes(nodes: Sequence[Span]) -> list[int]:
    """Return the lane of each node span (spans ordered by start): the first lane free at its start."""
    ends: list[float] = []
    out = []
    for s in nodes:
        start = s.start.timestamp()
        lane = next((i for i, end in enumerate(ends) if end <= start + 1e-6), len(ends))
        if lane == len(ends):
            ends.append(0.0)
        ends[lane] = s.end.timestamp()
        out.append(lane)
    return out


def critical_path(nodes: Sequence[Span]) -> list[Span]:
    """Return the node spans on the critical path, first to last."""
    if not nodes:
        return []
    chain = [max(nodes, key=lambda s: s.end)]
    while True:
        here = chain[-1].start
        before = [s for s in nodes if s.end <= here and s is not chain[-1]]
        if not before:
            return chain[::-1]
        chain.append(max(before, key=lambda s: s.end))


def timeline(spans: Sequence[Span]) -> dict[str, Any]:
    """Return what the template draws: bars (nodes, calls), axis ticks, the critical path, re-asks."""
    nodes = [s for s in spans if s.kind == "node"]
    if not spans:
        return {"width": WIDTH, "height": AXIS, "bars": [], "ticks": [], "critical": [], "seconds": 0.0}
    t0 = min(s.start for s in spans).timestamp()
    total = max(max(s.end for s in spans).timestamp() - t0, 1e-3)
    scale = (WIDTH - 2 * PAD) / total
    crit = {s.span_id for s in critical_path(nodes)}
    lane_of = dict(zip((s.span_id for s in nodes), lanes(nodes), strict=True))

    def x(s: Span) -> tuple[float, float]:
        a = PAD + (s.start.timestamp() - t0) * scale
        return round(a, 1), round(max((s.end.timestamp() - t0) * scale + PAD - a, 1.5), 1)

    bars = []
    for s in spans:
        lane = lane_of.get(s.parent_id or s.span_id, max(lane_of.values(), default=-1) + 1)
        if s.kind == "call" and s.parent_id is None:
            lane_of[s.span_id] = lane  # an orphan call (a replay's) gets a lane of its own
        left, width = x(s)
        tokens = s.input_tokens + s.output_tokens
        tip = f"{s.name} · {s.seconds:.2f} s" + (f" · {tokens:,} tokens" if tokens else "")
        bars.append({"x": left, "w": width, "y": AXIS + lane * LANE + (9 if s.kind == "call" else 1),
                     "h": 8 if s.kind == "call" else 17, "kind": s.kind, "node": s.node,
                     "error": s.error, "critical": s.span_id in crit,
                     "title": tip + (f" · {s.error}" if s.error else "")})  # fmt: skip
    count = max(lane_of.values(), default=0) + 1
    step = _tick(total)
    ticks = [{"x": round(PAD + t * scale, 1), "label": f"{t:g} s"} for t in _range(step, total)]
    path = [s for s in critical_path(nodes)]
    return {"width": WIDTH, "height": AXIS + count * LANE + PAD, "bars": bars, "ticks": ticks,
            "critical": [s.name for s in path], "critical_seconds": sum(s.seconds for s in path),
            "seconds": total, "lanes": count}  # fmt: skip


def _tick(total: float) -> float:
    """A round tick step giving 4 to 10 ticks over `total` seconds."""
    step = 0.001
    while total / step > 10:
        for factor in (2, 2.5, 2):
            step *= factor
            if total / step <= 10:
                break
    return step


def _range(step: float, total: float) -> list[float]:
    out, t = [], 0.0
    while t <= total + 1e-9:
        out.append(round(t, 6))
        t += step
    return out
