"""Align two runs' LLM calls by (node, task) and diff each aligned pair's prompt and reply."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from ribao.registry import NODES
from ribao.runs.diff_models import CallPair, CallSide
from ribao.runs.rows import CallRow

CONTEXT_LINES = 2  # unified-diff context around each change


def text_diff(a: str, b: str, name_a: str, name_b: str) -> str:
    """Return a unified line diff of two texts ('' when equal)."""
    lines = difflib.unified_diff(a.splitlines(), b.splitlines(), name_a, name_b, n=CONTEXT_LINES, lineterm="")
    return "\n".join(lines)


def _natural(text: str) -> list[Any]:
    """Sort key putting ``triage 2/9`` before ``triage 10/9``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def call_nodes(a: Sequence[CallRow], b: Sequence[CallRow]) -> dict[int, str]:
    """Return each call's node (by row id); a replay records its calls under the agent's name, so
    such a call takes the node the other run made the same (agent, task) call in."""
    known = {(c.agent, c.task): c.node for c in [*a, *b] if c.task_id is not None}
    return {c.id: c.node if c.task_id is not None else known.get((c.agent, c.task), c.node) for c in [*a, *b]}


def ordered(calls: Sequence[CallRow], nodes: Mapping[int, str]) -> list[CallRow]:
    """Return calls in pipeline order: by node, then task label (parallel tasks finish in any order)."""

    def key(c: CallRow) -> tuple[Any, ...]:
        node = nodes[c.id]
        return (NODES.index(node) if node in NODES else len(NODES), node, _natural(c.task), c.seq)

    return sorted(calls, key=key)


def reply_lines(raw: str) -> list[str]:
    """Return a reply as lines to diff: JSON (a tool call's arguments) pretty-printed, else the text."""
    try:
        return json.dumps(json.loads(raw), ensure_ascii=False, indent=2, sort_keys=True).splitlines()
    except ValueError:
        return raw.splitlines()


def prompt_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """Return the messages a call sent as one text to diff: each message's role on a line, then its text."""
    return "\n".join(f"[{m.get('role', '?')}]\n{m.get('content') or ''}" for m in messages)


def _call_side(call: CallRow, node: str) -> CallSide:
    return CallSide(
        seq=call.seq,
        node=node,
        model=call.model,
        input_tokens=call.input_tokens,
        output_tokens=call.output_tokens,
        latency_s=call.latency_s,
        cost=call.cost,
        currency=call.currency,
        error=call.error,
    )


def pair_of(x: CallRow, y: CallRow, node: str) -> CallPair:
    """Return two aligned calls with a line diff of their prompts and of their replies; ``changed``
    when either differs (a model may answer an edited prompt with the same text)."""
    prompt = text_diff(prompt_text(x.messages), prompt_text(y.messages), f"A call {x.seq} prompt",
                       f"B call {y.seq} prompt")  # fmt: skip
    reply = text_diff("\n".join(reply_lines(x.raw)), "\n".join(reply_lines(y.raw)), f"A call {x.seq}",
                      f"B call {y.seq}")  # fmt: skip
    return CallPair(node=node, task=x.task, agent=x.agent, status="changed" if prompt or reply else "same",
                    a=_call_side(x, node), b=_call_side(y, node), prompt_diff=prompt, diff=reply)  # fmt: skip


def align_calls(a: Sequence[CallRow], b: Sequence[CallRow]) -> list[CallPair]:
    """Align two runs' calls by (node, task): the longest common subsequence of the keys in pipeline
    order; each aligned pair carries line diffs of its prompts and replies; an unmatched call stands
    alone."""
    nodes = call_nodes(a, b)
    xa, xb = ordered(a, nodes), ordered(b, nodes)
    ka = [(nodes[c.id], c.task) for c in xa]
    kb = [(nodes[c.id], c.task) for c in xb]
    pairs: list[CallPair] = []

    def alone(call: CallRow, which: Literal["a", "b"]) -> CallPair:
        s = _call_side(call, nodes[call.id])
        if which == "a":
            return CallPair(node=s.node, task=call.task, agent=call.agent, status="only_a", a=s)
        return CallPair(node=s.node, task=call.task, agent=call.agent, status="only_b", b=s)

    matcher = difflib.SequenceMatcher(None, ka, kb, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            pairs += [pair_of(x, y, nodes[x.id]) for x, y in zip(xa[i1:i2], xb[j1:j2], strict=True)]
        else:
            pairs += [alone(x, "a") for x in xa[i1:i2]] + [alone(y, "b") for y in xb[j1:j2]]
    return pairs
