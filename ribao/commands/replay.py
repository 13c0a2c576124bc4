"""`ribao replay`: re-run one agent on a recorded run's inputs and show both outputs side by side."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ribao.commands import cli_errors
from ribao.ledger import add_tokens
from ribao.registry import Agent

if TYPE_CHECKING:
    from rich.console import Console

    from ribao.app.replay import ReplayReport
    from ribao.calls import LLMCall
    from ribao.graph.replay import ReplayOutcome


def replay(
    run_id: Annotated[str, typer.Argument(help="Run id, a unique prefix of it, or latest")],
    agent: Annotated[Agent, typer.Option(help="The agent to re-run", case_sensitive=False)],
    prompts_dir: Annotated[
        str | None, typer.Option(help="Prompt folder to try [default: the run's own]")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Another model for this agent (same provider)")] = None,
) -> None:
    """Re-run one agent on the exact inputs recorded in a run and show the new output beside the old.

    Neither the memory nor the original run (its checkpoints, digest and record) change; the
    replay is recorded in the run log with status ``replay``.
    """
    from ribao.app.replay import replay_run
    from ribao.commands.runs_log import require_run_log
    from ribao.settings_check import check_prompts_dir

    with cli_errors():
        check_prompts_dir(None if prompts_dir is None else Path(prompts_dir), flag=True)
        require_run_log()  # a home without runs is left as it was
        report = replay_run(run_id, agent.value, prompts_dir=prompts_dir, model=model)
    _show(report)


def _tokens(calls: list[LLMCall]) -> str:
    tokens = add_tokens(calls)
    return f"{len(calls)} call(s), {tokens.input_tokens:,} in / {tokens.output_tokens:,} out"


def _money(cost: float | None, currency: str) -> str:
    from ribao.ledger import money

    return money(cost, currency)


def _show(report: ReplayReport) -> None:
    from rich.console import Console

    outcome = report.outcome
    console = Console(highlight=False)
    console.print(
        f"[bold]replay[/bold] of {outcome.agent} in run {report.run_id} (recorded as {report.replay_id})",
        soft_wrap=True,  # one line however narrow the terminal: both run ids stay whole, to copy or grep
    )
    show = {"picks": _picks, "critiques": _critique, "summaries": _summaries, "lead": _lead}
    (output,) = outcome.recorded
    show[output](outcome, console)
    recorded = _money(report.recorded_cost, report.recorded_currency)
    console.print(f"recorded: {_tokens(outcome.recorded_calls)}, {recorded}")
    console.print(f"replay:   {_tokens(outcome.new_calls)}, {_money(report.new_cost, report.currency)}")


def _picks(outcome: ReplayOutcome, console: Console) -> None:
    from rich.table import Table

    table = Table("#", "recorded pick", "reason", "replay pick", "reason", show_lines=True)
    old, new = outcome.recorded["picks"], outcome.new["picks"]
    for i in range(max(len(old), len(new))):
        a = old[i] if i < len(old) else None
        b = new[i] if i < len(new) else None
        mark = "" if a and b and a.arxiv_id == b.arxiv_id else " *"
        table.add_row(str(i + 1) + mark, a.arxiv_id if a else "", a.reason if a else "",
                      b.arxiv_id if b else "", b.reason if b else "")  # fmt: skip
    console.print(table)


def _critique(outcome: ReplayOutcome, console: Console) -> None:
    from rich.table import Table

    table = Table("pick", "recorded", "reason", "replay", "reason", show_lines=True)
    (recorded,), (replayed,) = outcome.recorded["critiques"], outcome.new["critiques"]
    old = {d.arxiv_id: d for d in recorded.decisions}
    new = {d.arxiv_id: d for d in replayed.decisions}
    for pid in dict.fromkeys([*old, *new]):
        a, b = old.get(pid), new.get(pid)
        table.add_row(pid, a.decision if a else "", a.reason if a else "", b.decision if b else "",
                      b.reason if b else "")  # fmt: skip
    console.print(table)
    console.print(f"verdict: {recorded.verdict} → {replayed.verdict}")


def _text(summary: Any) -> list[str]:
    fields = summary.model_dump(exclude={"arxiv_id", "tier"}, exclude_none=True)
    return [f"{k}: {v}" for k, v in fields.items()]


def _summaries(outcome: ReplayOutcome, console: Console) -> None:
    old, new = outcome.recorded["summaries"], outcome.new["summaries"]
    for pid in old:
        diff = list(difflib.unified_diff(_text(old[pid]), _text(new[pid]), "recorded", "replay", lineterm=""))
        console.print(f"[bold]{pid}[/bold]" + ("" if diff else " (unchanged)"), markup=True)
        for line in diff[2:]:
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
            console.print(line, style=style, markup=False)


def _lead(outcome: ReplayOutcome, console: Console) -> None:
    console.print(f"recorded lead: {outcome.recorded['lead']}", markup=False)
    console.print(f"replay lead:   {outcome.new['lead']}", markup=False)
