"""Render `ribao runs view`: one self-contained HTML page of a recorded run (inline CSS and SVG).

The page draws the graph with each node's status, a timeline of every node task and LLM call, the
usage per agent and per node, the picks with their paths (`ribao.runs.why`), the critic's rounds,
the deliveries and the failure; every candidate has its path, reachable at ``#why-<arxiv id>``.
Each call's messages and reply are embedded gzip-compressed (base64) and unpacked by a few lines
of inline script when the call is opened, so the page stays small; secrets are masked again here,
as in the run log (`ribao.masking`).
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment

from ribao import ledger
from ribao.html_templates import html_environment
from ribao.masking import scrub_value
from ribao.runs.page_graph import GraphShape, layout, node_stats
from ribao.runs.page_timeline import timeline
from ribao.runs.rows import CallRow, NodeRow, RunRow
from ribao.runs.spans import run_spans
from ribao.runs.why import PaperPath, RunFacts, explain
from ribao.runs.why_text import TIERS, path_lines


@dataclass
class RunRecord:
    """Everything the page shows of one run, as read from the run log."""

    run: RunRow
    nodes: list[NodeRow]
    calls: list[CallRow]
    deliveries: list[dict[str, Any]]


def packed(call: CallRow, secrets: Sequence[str] = ()) -> str:
    """Return a call's messages and reply (masked) as gzip-compressed JSON in base64."""
    data = scrub_value({"messages": call.messages, "reply": call.raw}, secrets)
    raw = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return base64.b64encode(gzip.compress(raw, compresslevel=6, mtime=0)).decode("ascii")


def usage_rows(calls: Sequence[CallRow], key: str) -> list[dict[str, Any]]:
    """Return calls, tokens, cost and latency summed per `key` (``agent`` or ``node``), then the total."""
    groups: dict[str, list[CallRow]] = {}
    for c in calls:
        groups.setdefault(getattr(c, key), []).append(c)
    rows = [_usage(name, group) for name, group in groups.items()]
    return [*rows, _usage("total", list(calls))] if rows else rows


def _usage(name: str, calls: Sequence[CallRow]) -> dict[str, Any]:
    cost, currency = ledger.add_costs((c.cost, c.currency) for c in calls)
    tokens = ledger.add_tokens(calls)
    return {
        "name": name, "calls": len(calls), "input": tokens.input_tokens, "output": tokens.output_tokens,
        "cached": tokens.cached_tokens, "cost": ledger.money(cost, currency),
        "latency": sum(c.latency_s for c in calls), "reasks": sum(1 for c in calls if c.error),
    }  # fmt: skip


def outcome(p: PaperPath) -> tuple[str, str]:
    """Return (css class, short text) of a candidate's outcome for the candidates' list."""
    if p.featured_on:
        return "gone", f"featured {p.featured_on}"
    if p.final_tier:
        return "pick", TIERS.get(p.final_tier, p.final_tier) + f" #{p.final_rank}"
    if any(s.decision == "replace" for s in p.rounds):
        return "replaced", "replaced by the critic"
    if any(s.shortlisted for s in p.rounds):
        return "short", "shortlisted"
    if p.rounds and all(s.relevance is not None and s.blended is None for s in p.rounds):
        return "cut", "under the relevance floor"  # the reader's floor, not the score cut, left it out
    return "cut", "below the cut" if p.rounds else "not ranked"


def _environment() -> Environment:
    return html_environment(
        "ribao.runs", money=lambda c, cur=None: ledger.money(c, cur), num=lambda n: f"{n:,}"
    )


def render_run_page(record: RunRecord, shape: GraphShape, *, secrets: Sequence[str] = ()) -> str:
    """Return the page of one run as HTML text (every value escaped by the template)."""
    run, nodes, calls = record.run, record.nodes, record.calls
    facts = RunFacts.read(run, nodes)
    paths = {pid: explain(facts, pid) for pid in facts.order}
    stats = node_stats(shape.nodes, nodes, calls)
    picks = run.picks if run.status == "done" or not facts.picks else facts.picks[max(facts.picks)]
    critiques: Sequence[Mapping[str, Any]] = run.critiques or [
        facts.critiques[n] for n in sorted(facts.critiques)
    ]
    candidates = [
        {"id": pid, "title": facts.titles.get(pid, ""), "score": paths[pid].triage_score,
         "outcome": outcome(paths[pid]), "lines": path_lines(paths[pid])}
        for pid in facts.order
    ]  # fmt: skip
    return (
        _environment()
        .get_template("run.html.j2")
        .render(
            run=run,
            seconds=run.seconds,
            graph=layout(shape, stats),
            stats=stats,
            timeline=timeline(run_spans(nodes, calls)),
            agents=usage_rows(calls, "agent"),
            by_node=usage_rows(calls, "node"),
            total=ledger.money(run.cost, run.currency),
            picks=[
                {**p, "lines": path_lines(paths[p["arxiv_id"]]) if p.get("arxiv_id") in paths else []}
                for p in picks
            ],  # fmt: skip
            critiques=critiques,
            titles=facts.titles,
            deliveries=record.deliveries,
            failures=[n for n in nodes if n.error],
            calls=calls,
            packed={c.seq: packed(c, secrets) for c in calls},
            candidates=candidates,
            tiers=TIERS,
        )
    )
