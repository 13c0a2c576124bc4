"""The live trace: one line per node start and finish, with duration, what it produced and tokens."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape

from ribao.ledger import add_tokens
from ribao.sources.calendar import holiday_list_note

Describe = Callable[[dict[str, Any]], str]


def _tokens(result: dict[str, Any]) -> str:
    calls = result.get("llm_calls") or []
    if not calls:
        return ""
    tin, tout, _ = add_tokens(calls)
    retries = sum(1 for c in calls if c.error)
    extra = f", {retries} re-asked" if retries else ""
    return f" | {calls[0].agent} {len(calls)} call(s), tokens {tin:,} in / {tout:,} out{extra}"


def _fetch(r: dict[str, Any]) -> str:
    day = r.get("date")
    note = holiday_list_note(day) if isinstance(day, dt.date) else ""
    unknown = f" ({note})" if note else ""
    return f"{len(r.get('candidates', []))} candidates for {day} from {r.get('listing_origin')}{unknown}"


def _recall(r: dict[str, Any]) -> str:
    ex = r.get("excluded", [])
    shown = ", ".join(f"{e.arxiv_id} ({e.featured_on})" for e in ex[:5])
    listed = f": {shown}" if shown else ""
    return f"{len(ex)} excluded as featured before{listed}"


def _flags(r: dict[str, Any]) -> str:
    flags = r.get("memory_flags", [])
    shown = ", ".join(f"{f.arxiv_id} ~ {f.similar_to} ({f.similarity:.2f})" for f in flags[:3])
    return f"{len(flags)} near-duplicate flag(s)" + (f": {shown}" if shown else "")


def _rank(r: dict[str, Any]) -> str:
    ranking = r.get("ranking", [])
    must = [p.arxiv_id for p in ranking if p.tier == "must_read"]
    return f"round {r.get('screen_rounds')}: {len(ranking)} picks, must-read {', '.join(must)}"


def _critique(r: dict[str, Any]) -> str:
    c = r["critiques"][-1]
    replaced = [f"{d.arxiv_id} ({d.reason[:30]})" for d in c.decisions if d.decision == "replace"]
    capped = " — cap reached, keeping the picks" if c.capped else ""
    more = f" and {len(replaced) - 3} more" if len(replaced) > 3 else ""
    body = (
        f"replace {len(replaced)} of {len(c.decisions)}: {'; '.join(replaced[:3])}{more}"
        if replaced
        else f"keep all {len(c.decisions)}"
    )
    return f"round {c.round}: {c.verdict}: {body}{capped}"


def _write(r: dict[str, Any]) -> str:
    (pid, s), *_ = r["summaries"].items()
    return f"{pid} ({s.tier})"


def _fulltext(r: dict[str, Any]) -> str:
    texts = r.get("fulltexts", {})
    if not texts:
        return "full text off"
    return ", ".join(f"{pid} {t.used}" for pid, t in texts.items())


#: One describer per node of `ribao.registry.NODES`, in its order (tests/test_graph_nodes.py checks).
DESCRIBE: dict[str, Describe] = {
    "fetch_listing": _fetch,
    "recall_memory": _recall,
    "triage_batch": lambda r: f"{len(r.get('triage_scores', {}))} scored",
    "flag_near_duplicates": _flags,
    "rank_papers": _rank,
    "write_reasons": lambda r: f"reasons for {len(r.get('picks', []))} picks",
    "critique_picks": _critique,
    "fetch_fulltext": _fulltext,
    "write_summary": _write,
    "write_lead": lambda r: "lead written" if r.get("lead") else "no lead",
    "fetch_stars": lambda r: f"stars for {sum(v is not None for v in r.get('stars', {}).values())} link(s)",
    "write_digest": lambda r: f"wrote {r.get('digest_path')} and {r.get('json_path')}",
    "remember_digest": lambda r: f"{r.get('remembered')} paper(s) stored in memory",
    "deliver": lambda r: (
        ", ".join(f"{d.channel} {d.status} ({d.bytes:,} B)" for d in r.get("deliveries", []))
        or "no push channel"
    ),
}


class Tracer:
    """Print node events from `stream_mode="tasks"` to stderr; silent when `quiet`."""

    def __init__(self, *, quiet: bool = False, console: Console | None = None) -> None:
        self.quiet = quiet
        # soft_wrap: one event per line in logs, whatever the terminal width (cron, CI).
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self.started: dict[str, float] = {}

    def line(self, text: str) -> None:
        """Print one trace line (rich markup allowed) unless quiet."""
        if not self.quiet:
            self.console.print(text)

    def progress(self, data: Any) -> None:
        """Print a progress message a node wrote to the custom stream."""
        if isinstance(data, dict) and "message" in data:
            self.line(f"[dim]  … {escape(str(data.get('node', '')))}: {escape(str(data['message']))}[/dim]")

    def event(self, data: dict[str, Any]) -> None:
        """Handle one task start or result event."""
        name, task_id = data["name"], data["id"]
        if "result" not in data and "error" not in data:
            self.started[task_id] = time.perf_counter()
            self.line(f"[dim]▶ {name}[/dim]")
            return
        took = time.perf_counter() - self.started.pop(task_id, time.perf_counter())
        if data.get("error"):
            self.line(f"[red]✗ {name}[/red] {took:.1f}s {escape(str(data['error'])[:300])}")
            return
        result = dict(data.get("result") or {})
        try:
            what = DESCRIBE.get(name, lambda r: "")(result)
        except (KeyError, ValueError, IndexError):
            what = ""
        self.line(f"[green]✓ {name}[/green] {took:.1f}s {escape(what)}{escape(_tokens(result))}")
