"""Render `ribao runs diff` for people: the two runs, then each kind of difference, with rich."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ribao import ledger
from ribao.runs.diff_models import AgentDelta, CallPair, RunDiff, RunSide, Usage


def signed_money(cost: float | None, currency: str | None) -> str:
    """Return a cost difference as ``+¥0.0364`` or ``-¥0.0364`` (``±`` none); unknown as the ledger says."""
    if cost is None:
        return ledger.UNKNOWN_COST
    sign = "+" if cost > 0 else ("-" if cost < 0 else "±")
    return sign + ledger.money(abs(cost), currency)


def signed(value: float, digits: int = 0) -> str:
    """Return ``+3``, ``-1.25`` or ``±0``."""
    text = f"{abs(value):,.{digits}f}"
    return ("+" if value > 0 else "-" if value < 0 else "±") + text


def usage_cells(row: AgentDelta) -> list[str]:
    """Return one usage row's cells: agent, then ``A → B (Δ)`` for calls, tokens, cost and latency."""
    a, b, d = row.a, row.b, row.delta

    def pair(field: str, digits: int = 0) -> str:
        x, y, z = getattr(a, field), getattr(b, field), getattr(d, field)
        return f"{x:,.{digits}f} → {y:,.{digits}f} ({signed(z, digits)})"

    cost = f"{money(a)} → {money(b)} ({signed_money(d.cost, d.currency)})"
    return [row.agent, pair("calls"), pair("input_tokens"), pair("output_tokens"), cost, pair("latency_s", 2)]


USAGE_HEADERS = ["agent", "calls", "input tokens", "output tokens", "cost", "latency s (sum)"]


def money(u: Usage) -> str:
    """Return a usage's cost as the ledger writes money."""
    return ledger.money(u.cost, u.currency)


def side_line(name: str, s: RunSide) -> str:
    """Return one line naming a run: id, status, day, cost, and what it replays."""
    line = f"{name}  {s.run_id}  {s.status}  day {s.date or '-'}  {ledger.money(s.cost, s.currency)}"
    if s.replay_of:
        line += f"  (replay of {s.replay_of}, agent {s.replay_agent})"
    return line


def what_changed(pair: CallPair) -> str:
    """Return what differs in an aligned pair: its prompt, its reply, or both."""
    if pair.prompt_diff and not pair.diff:
        return "prompt changed, same reply"
    return "prompt and reply changed" if pair.prompt_diff else "reply changed"


def call_title(pair: CallPair) -> str:
    """Return ``node · task · status`` with each side's call number."""
    seqs = " / ".join(f"{k.upper()} #{c.seq}" for k, c in (("a", pair.a), ("b", pair.b)) if c)
    names = {"only_a": "only in A", "only_b": "only in B", "changed": what_changed(pair)}
    return f"{pair.node} · {pair.task} · {names.get(pair.status, pair.status)}  ({seqs})"


def call_counts(diff: RunDiff) -> str:
    """Return how many aligned calls are the same, changed, or only on one side."""
    names = {"same": "same", "changed": "changed", "only_a": "only in A", "only_b": "only in B"}
    return ", ".join(f"{sum(p.status == s for p in diff.calls)} {name}" for s, name in names.items())


DIFF_STYLES = (("+++", "bold"), ("---", "bold"), ("@@", "cyan"), ("+", "green"), ("-", "red"))


PROMPT_DIFF_LINES = 40  # a prompt diff in the terminal; two days' triage batches differ in every abstract


def capped(diff: str, limit: int = PROMPT_DIFF_LINES) -> str:
    """Return the first `limit` lines of a diff, and how many more --json and --html show."""
    lines = diff.splitlines()
    if len(lines) <= limit:
        return diff
    return "\n".join(
        [*lines[:limit], f"… {len(lines) - limit} more lines of this prompt diff (--json, --html)"]
    )


def _diff_text(text: str) -> Text:
    out = Text()
    for line in text.splitlines():
        style = next((s for prefix, s in DIFF_STYLES if line.startswith(prefix)), "")
        out.append("    " + line + "\n", style=style)
    out.rstrip()
    return out


def _title(console: Console, title: str) -> None:
    console.print()
    console.print(Text(title, style="bold underline"))


def show_diff(console: Console, diff: RunDiff, *, replies: bool = True) -> None:
    """Print a run diff: settings, prompt files with their text diffs, picks, usage, aligned calls."""
    console.print(side_line("A", diff.a), markup=False)
    console.print(side_line("B", diff.b), markup=False)
    if diff.scope:
        console.print(diff.scope, markup=False)
    _title(console, f"Settings ({len(diff.settings)} differ)")
    for s in diff.settings:
        a = "(not recorded)" if s.missing == "a" else repr(s.a)
        b = "(not recorded)" if s.missing == "b" else repr(s.b)
        console.print(f"  {s.key}: {a} → {b}", markup=False)
    _title(console, f"Prompt files ({len(diff.prompts)} differ)")
    if diff.prompts_note:
        console.print(f"  {diff.prompts_note}", markup=False)
    for p in diff.prompts:
        src = " → ".join((v or {}).get("source", "-") for v in (p.a, p.b))
        console.print(f"  {p.file}  {p.status}  ({src})", markup=False)
        if p.note:
            console.print(f"    {p.note}", markup=False)
        if p.diff:
            console.print(_diff_text(p.diff))
    _title(console, f"Picks ({len(diff.picks)} added, removed or moved)")
    if diff.picks_note:
        console.print(f"  {diff.picks_note}", markup=False)
    for k in diff.picks:
        a = f"#{k.a_rank} {k.a_tier}" if k.a_rank else "-"
        b = f"#{k.b_rank} {k.b_tier}" if k.b_rank else "-"
        console.print(f"  {k.change:<8} {k.arxiv_id}  {a} → {b}  {k.title}", markup=False)
    _title(console, "Calls, tokens, cost and latency per agent (A → B, Δ)")
    table = Table(box=None, pad_edge=False)
    for h in USAGE_HEADERS:
        table.add_column(h, justify="left" if h == "agent" else "right")
    for row in [*diff.agents, diff.total]:
        table.add_row(*usage_cells(row))
    console.print(table)
    _title(console, f"LLM calls aligned by node and task ({call_counts(diff)})")
    for pair in diff.calls:
        if pair.status == "same":
            continue
        console.print(f"  {call_title(pair)}", markup=False)
        if replies and pair.prompt_diff:
            console.print(_diff_text(capped(pair.prompt_diff)))
        if replies and pair.diff:
            console.print(_diff_text(pair.diff))
