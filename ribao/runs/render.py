"""Render run records for people with rich: the run list, one run's report, and its trace."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ribao import ledger
from ribao.runs.rows import AgentUsage, RunRow, sum_usage

STATUS_STYLE = {
    "done": "green",
    "failed": "red",
    "running": "yellow",
    "interrupted": "magenta",
    "no_announcement": "cyan",
}


def money(cost: float | None, currency: str | None) -> str:
    """Return ``¥0.0300``-style cost text, or the unknown-cost label (`ledger.money`)."""
    return ledger.money(cost, currency)


def local_time(value: dt.datetime | None) -> str:
    """Return a UTC timestamp in the local time zone, to the second; ``-`` for None."""
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def seconds_text(seconds: float | None) -> str:
    """Return a duration as ``0.4s``, ``42s`` or ``3m05s``; ``-`` for None."""
    if seconds is None:
        return "-"
    if seconds < 10:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def status_text(status: str) -> Text:
    """Return the status coloured by outcome."""
    return Text(status, style=STATUS_STYLE.get(status, ""))


def runs_table(runs: Sequence[RunRow]) -> Table:
    """Return the `runs list` table: id, start, day, status, picks, tokens, cost, duration, and for a
    profile's run its profile and day run (a column only when a listed run has one)."""
    table = Table(box=None, pad_edge=False)
    for name, justify in [
        ("run", "left"),
        ("started", "left"),
        ("day", "left"),
        ("status", "left"),
        ("picks", "right"),
        ("tokens", "right"),
        ("cost", "right"),
        ("time", "right"),
        *([("profile", "left")] if any(profile_text(r) for r in runs) else []),
    ]:
        table.add_column(name, justify=justify, no_wrap=name != "status")  # type: ignore[arg-type]
    for run in runs:
        table.add_row(
            run.run_id, local_time(run.started_at), str(run.date or "-"), status_text(run.status),
            str(len(run.picks)), f"{run.total_tokens:,}", money(run.cost, run.currency),
            seconds_text(run.seconds), *([profile_text(run)] if len(table.columns) > 8 else []),
        )  # fmt: skip
    return table


def profile_text(run: RunRow) -> str:
    """Return the run's reader: ``NAME of day run ID`` in a day run, ``NAME`` alone (the demo's `example`,
    one `--profile`), "" for the default profile."""
    name, day = run.settings.get("profile"), run.settings.get("day_run")
    return f"{name} of day run {day}" if day else str(name or "")


def settings_summary(settings: dict[str, Any]) -> list[str]:
    """Return the settings worth a glance: provider and models, pick counts, critic cap, source, memory."""
    models = settings.get("models") or {}
    agents = ", ".join(f"{a}={m.get('model', '?')}" for a, m in models.items())
    memory = settings.get("memory") or {}
    lines = [
        f"llm {settings.get('llm', '?')}" + (f" ({agents})" if agents else ""),
        f"must-read {settings.get('must_read', '?')}, notable {settings.get('notable', '?')}, "
        f"critic rounds ≤ {settings.get('max_critic_rounds', '?')}",
        f"source {settings.get('source', '?')}, out {settings.get('out_dir', '?')}",
    ]
    where = memory.get("url") or "home"
    lines.append(f"memory {memory.get('embedder')} at {where}" if memory.get("enabled") else "memory off")
    return lines


def usage_table(usage: dict[str, AgentUsage], currency: str | None) -> tuple[Table, AgentUsage]:
    """Return the per-agent table with a total row, and that total (what the header must equal)."""
    total = sum_usage(usage.values(), currency)
    table = Table(box=None, pad_edge=False, show_footer=False)
    for name in ("agent", "calls", "input", "output", "cached", "cost"):
        table.add_column(name, justify="left" if name == "agent" else "right")
    rows = [*usage.items(), ("total", total)]
    for agent, u in rows:
        table.add_row(
            Text(agent, style="bold" if agent == "total" else ""), str(u.calls), f"{u.input_tokens:,}",
            f"{u.output_tokens:,}", f"{u.cached_tokens:,}", money(u.cost, u.currency or currency),
            end_section=agent == list(usage)[-1] if usage else False,
        )  # fmt: skip
    return table, total


def totals_match(run: RunRow, total: AgentUsage) -> bool:
    """Return True when the per-agent total equals the run's tokens and cost (cost to 1e-9)."""
    tokens = (run.input_tokens, run.output_tokens, run.cached_tokens)
    if tokens != (total.input_tokens, total.output_tokens, total.cached_tokens):
        return False
    if run.cost is None or total.cost is None:
        return run.cost is None and total.cost is None
    return math.isclose(run.cost, total.cost, rel_tol=1e-9, abs_tol=1e-12)


def show_run(
    console: Console, run: RunRow, usage: dict[str, AgentUsage], deliveries: Sequence[dict[str, Any]] = ()
) -> None:
    """Print one run: header, settings, prompt files, picks, critic rounds, usage, outputs, pushes."""
    head = Text.assemble(("run ", "bold"), (run.run_id, "bold"), "  ", status_text(run.status))
    console.print(head)
    cats = ", ".join(run.categories)
    console.print(f"  day {run.date or '-'} ({cats}) · started {local_time(run.started_at)} · "
                  f"took {seconds_text(run.seconds)}", markup=False)  # fmt: skip
    console.print(f"  tokens {run.input_tokens:,} in / {run.output_tokens:,} out ({run.cached_tokens:,} "
                  f"cached) · cost {money(run.cost, run.currency)}", markup=False)  # fmt: skip
    if profile_text(run):
        console.print(f"  profile {profile_text(run)}", markup=False)
    if run.error:
        console.print(Text(f"  error: {run.error}", style="red"))
    _section(console, "settings")
    for line in settings_summary(run.settings):
        console.print(f"  {line}", markup=False, highlight=False)
    _section(console, "prompt files")
    if run.prompts:
        table = Table(box=None, pad_edge=False)
        for name in ("file", "source", "sha256"):
            table.add_column(name)
        for rel, info in sorted(run.prompts.items()):
            table.add_row(rel, str(info.get("source", "?")), str(info.get("sha256", ""))[:12])
        console.print(table)
    else:
        console.print("  (none recorded)")
    _section(console, f"picks ({len(run.picks)})")
    if run.picks:
        table = Table(box=None, pad_edge=False)
        # A profile's run: each pick's relevance to the reader (none recorded for the default profile).
        relevant = any(p.get("relevance") is not None for p in run.picks)
        for name in ("#", "tier", "arXiv id", *(["relevance"] if relevant else []), "title", "reason"):
            table.add_column(name, overflow="fold")
        for p in run.picks:
            relevance = (
                [] if not relevant else ["-" if p.get("relevance") is None else f"{p['relevance']:.2f}"]
            )
            table.add_row(str(p.get("rank")), str(p.get("tier")), str(p.get("arxiv_id")), *relevance,
                          str(p.get("title", "")), str(p.get("reason", "")))  # fmt: skip
        console.print(table)
    _section(console, f"critic rounds ({len(run.critiques)})")
    for critique in run.critiques:
        console.print(critique_table(critique))
    _section(console, "tokens and cost per agent")
    table, total = usage_table(usage, run.currency)
    console.print(table)
    if not totals_match(run, total):
        console.print(Text("  the calls on record do not add up to the run's totals above", style="yellow"))
    _section(console, "outputs")
    for label, path in (("digest", run.digest_path), ("json", run.json_path)):
        console.print(f"  {label} {path or '-'}", markup=False, highlight=False)
    _section(console, f"push ({len(deliveries)})")
    if deliveries:
        table = Table(box=None, pad_edge=False)
        for name in ("channel", "scheme", "format", "status", "parts", "bytes", "cut", "tries", "error"):
            table.add_column(name, overflow="fold")
        for d in deliveries:
            table.add_row(d["channel"], d["scheme"], d["format"],
                          Text(d["status"], style="green" if d["status"] == "ok" else "red"),
                          str(d["parts"]), f"{d['bytes']:,}", str(d["cut"]), str(d["attempts"]),
                          d.get("error") or "")  # fmt: skip
        console.print(table)
    else:
        console.print("  (no channel)")


def critique_table(critique: dict[str, Any]) -> Table:
    """Return one critic round as a table: each pick's decision, its reason and any replacement."""
    capped = " (round cap reached: picks kept)" if critique.get("capped") else ""
    table = Table(box=None, pad_edge=False, title_justify="left",
                  title=f"round {critique.get('round')}: {critique.get('verdict')}{capped}")  # fmt: skip
    for name in ("arXiv id", "decision", "reason", "replacement"):
        table.add_column(name, overflow="fold")
    for d in critique.get("decisions", []):
        style = "yellow" if d.get("decision") == "replace" else ""
        table.add_row(str(d.get("arxiv_id")), Text(str(d.get("decision")), style=style),
                      str(d.get("reason", "")), str(d.get("replacement") or ""))  # fmt: skip
    return table


def _section(console: Console, title: str) -> None:
    console.print()
    console.print(Text(title, style="bold underline"))


def pretty_json(text: str) -> str:
    """Return `text` re-indented when it is JSON (Chinese kept readable), else unchanged."""
    try:
        return json.dumps(json.loads(text), ensure_ascii=False, indent=2)
    except ValueError:
        return text
