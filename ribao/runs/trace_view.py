"""Render `runs trace`: each node task with its inputs and outputs, then each LLM call's prompt and reply."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ribao.runs.render import critique_table, money, pretty_json, seconds_text
from ribao.runs.rows import CallRow, NodeRow

FIELD_CHARS = 300  # one node input or output field, as compact JSON


def clip(text: str, limit: int) -> str:
    """Return `text` cut to `limit` characters with a note of how many were left out (0 = no limit)."""
    if limit <= 0 or len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def calls_of(node: NodeRow, calls: Sequence[CallRow]) -> list[CallRow]:
    """Return the calls made by one node task (matched by task id, else by node name)."""
    if node.task_id:
        return [c for c in calls if c.task_id == node.task_id]
    return [c for c in calls if c.task_id is None and c.node == node.node]


def show_trace(
    console: Console,
    nodes: Sequence[NodeRow],
    calls: Sequence[CallRow],
    *,
    agent: str | None = None,
    max_chars: int = 0,
) -> None:
    """Print every node task in order, each followed by its LLM calls; with `agent`, only tasks with
    that agent's calls (and `calls` already filtered to it). `max_chars` clips each message (0 = whole)."""
    matched: set[int] = set()
    for node in nodes:
        mine = calls_of(node, calls)
        if agent and not mine:
            continue
        matched.update(c.id for c in mine)
        _node(console, node)
        for call in mine:
            show_call(console, call, max_chars=max_chars)
    rest = [c for c in calls if c.id not in matched]
    if rest:
        console.print(Text("\nLLM calls without a recorded node task", style="bold"))
        for call in rest:
            show_call(console, call, max_chars=max_chars)


def _node(console: Console, node: NodeRow) -> None:
    console.print()
    head = Text.assemble(("▶ ", "dim"), (node.node, "bold"), f"  {seconds_text(node.duration_s)}")
    if node.summary:
        head.append(f"  {node.summary}")
    console.print(head)
    if node.error:
        console.print(Text(f"  ✗ {node.error}", style="red"))
    _fields(console, "in ", node.inputs)
    outputs = dict(node.outputs) if isinstance(node.outputs, dict) else {}
    critiques = outputs.pop("critiques", None) if node.node == "critique_picks" else None
    _fields(console, "out", outputs)
    for critique in critiques or []:
        console.print(critique_table(critique))


def _fields(console: Console, label: str, values: Any) -> None:
    if not isinstance(values, dict):
        return
    for key, value in values.items():
        if label == "in " and value in (None, [], {}, ""):
            continue  # the state's empty keys say nothing about this task
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        line = Text(f"  {label} ", style="dim")
        line.append(f"{key}: ", style="cyan")
        line.append(clip(text, FIELD_CHARS))
        console.print(line)


def show_call(console: Console, call: CallRow, *, max_chars: int = 0) -> None:
    """Print one LLM call: agent, model, task, tokens, latency, cost; each message; the raw reply."""
    console.print()
    head = Text(f"  ● call {call.seq} ", style="bold")
    tokens = f"{call.input_tokens:,} in / {call.output_tokens:,} out"
    cost = money(call.cost, call.currency)
    head.append(f"{call.agent} · {call.model} · {call.task} · {tokens} · {call.latency_s:.2f}s · {cost}")
    console.print(head)
    if call.error:
        console.print(Text(f"    rejected, re-asked: {call.error}", style="yellow"))
    for message in call.messages:
        console.print(Text(f"    ── {message.get('role', '?')}", style="dim"))
        console.print(Text(clip(message.get("content", ""), max_chars)))
    console.print(Text("    ── reply", style="dim"))
    console.print(Text(clip(pretty_json(call.raw), max_chars) or "(empty)"))
    if call.agent == "critic" and isinstance(call.parsed, dict):
        console.print(verdicts_table(call.parsed))


def verdicts_table(parsed: dict[str, Any]) -> Table:
    """Return the critic's parsed reply as a table: key, decision, reason, replacement."""
    table = Table(box=None, pad_edge=False, title="    verdicts", title_justify="left")
    for name in ("pick", "decision", "reason", "replacement"):
        table.add_column(name, overflow="fold")
    for key, entry in parsed.items():
        if isinstance(entry, dict) and "decision" in entry:
            table.add_row(key, str(entry.get("decision")), str(entry.get("reason", "")),
                          str(entry.get("replacement") or ""))  # fmt: skip
    return table
