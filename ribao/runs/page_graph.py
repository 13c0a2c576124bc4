"""The run page's graph: the compiled graph's nodes and edges laid out in one column, for inline SVG.

The nodes stand in pipeline order (`ribao.registry.NODES`); an edge to the next node is a straight
arrow, one that skips ahead curves on the right, one that loops back (the critic's revise) on the
left; a conditional edge is dashed. Each box carries its node's status, tasks, time and tokens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ribao.runs.rows import CallRow, NodeRow

BOX_W, BOX_H, GAP, LEFT, TOP = 230, 46, 22, 64, 10
WIDTH = LEFT + BOX_W + 66


@dataclass(frozen=True)
class GraphShape:
    """The compiled graph's structure: node names in pipeline order, edges (source, target, conditional)."""

    nodes: tuple[str, ...]
    edges: tuple[tuple[str, str, bool], ...]


@dataclass
class NodeStats:
    """One node over a run: tasks recorded, failed ones, seconds (summed and wall), tokens, cost, calls."""

    tasks: int = 0
    failed: int = 0
    seconds: float = 0.0
    wall: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0
    cost: float | None = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``failed``, ``done`` or ``not run``."""
        return "failed" if self.failed else "done" if self.tasks else "not run"


def node_stats(
    names: Sequence[str], nodes: Sequence[NodeRow], calls: Sequence[CallRow]
) -> dict[str, NodeStats]:
    """Return each node's totals over the run (every name in `names`, also those never run)."""
    stats = {n: NodeStats() for n in names}
    spans: dict[str, list[tuple[float, float]]] = {}
    for row in nodes:
        s = stats.setdefault(row.node, NodeStats())
        s.tasks += 1
        s.seconds += row.duration_s or 0.0
        if row.error:
            s.failed += 1
            s.errors.append(row.error)
        end = row.finished_at.timestamp()
        spans.setdefault(row.node, []).append((end - (row.duration_s or 0.0), end))
    for node, pairs in spans.items():
        stats[node].wall = max(b for _, b in pairs) - min(a for a, _ in pairs)
    for c in calls:
        s = stats.setdefault(c.node, NodeStats())
        s.calls += 1
        s.input_tokens += c.input_tokens
        s.output_tokens += c.output_tokens
        s.cost = None if s.cost is None or c.cost is None else s.cost + c.cost
    return stats


def _y(i: int) -> int:
    return TOP + i * (BOX_H + GAP)


def layout(shape: GraphShape, stats: Mapping[str, NodeStats]) -> dict[str, object]:
    """Return what the template draws: the view box, one box per node and one path per edge."""
    index = {n: i for i, n in enumerate(shape.nodes)}
    boxes = []
    for i, name in enumerate(shape.nodes):
        s = stats.get(name, NodeStats())
        tokens = s.input_tokens + s.output_tokens
        line = f"{s.tasks} task{'s' if s.tasks != 1 else ''} · {s.wall:.1f} s" + (
            f" · {tokens:,} tok" if tokens else ""
        )
        boxes.append({"name": name, "x": LEFT, "y": _y(i), "w": BOX_W, "h": BOX_H, "status": s.status,
                      "line": line if s.tasks else "not run"})  # fmt: skip
    paths = []
    right = left = 0
    for src, dst, conditional in shape.edges:
        if src not in index or dst not in index:
            continue  # __start__ and __end__ are drawn as the column's ends
        i, j = index[src], index[dst]
        cx, mid_i, mid_j = LEFT + BOX_W // 2, _y(i) + BOX_H // 2, _y(j) + BOX_H // 2
        if j == i + 1:
            d = f"M{cx},{_y(i) + BOX_H} L{cx},{_y(j) - 2}"
        elif j > i:
            right += 1
            x, bend = LEFT + BOX_W, LEFT + BOX_W + 14 + 12 * right
            d = f"M{x},{mid_i} C{bend},{mid_i} {bend},{mid_j} {x + 2},{mid_j}"
        else:
            left += 1
            bend = LEFT - 14 - 12 * left
            d = f"M{LEFT},{mid_i} C{bend},{mid_i} {bend},{mid_j} {LEFT - 2},{mid_j}"
        paths.append({"d": d, "conditional": conditional, "title": f"{src} → {dst}"})
    return {"width": WIDTH, "height": _y(len(shape.nodes)), "boxes": boxes, "paths": paths}
