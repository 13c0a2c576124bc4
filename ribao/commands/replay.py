"""`ribao replay`: re-run one agent on a recorded run's inputs and show both outputs side by side."""

from __future__ import annotations

import asyncio
import difflib
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ribao.commands import cli_errors

if TYPE_CHECKING:
    from rich.console import Console

    from ribao.calls import LLMCall
    from ribao.graph.replay import ReplayOutcome

AGENTS = ("screener", "critic", "writer", "editor")


def replay(
    run_id: Annotated[str, typer.Argument(help="Run id, a unique prefix of it, or latest")],
    agent: Annotated[str, typer.Option(help="screener, critic, writer or editor")],
    prompts_dir: Annotated[
        str | None, typer.Option(help="Prompt folder to try [default: the run's own]")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Another model for this agent (same provider)")] = None,
) -> None:
    """Re-run one agent on the exact inputs recorded in a run and show the new output beside the old.

    Neither the memory nor the original run (its checkpoints, digest and record) change; the
    replay is recorded in the run log with status ``replay``.
    """
    from ulid import ULID

    from ribao.graph.replay import replay_agent
    from ribao.graph.runner import build_context, model_configs, settings_of_run
    from ribao.llm.models import make_chat_model
    from ribao.runs.db import RunLog
    from ribao.runs.redact import safe_settings
    from ribao.settings import load_settings

    if agent not in AGENTS:
        raise typer.BadParameter(f"--agent must be one of {', '.join(AGENTS)}")
    with cli_errors():
        home = load_settings().home
        with RunLog.open(home) as log:
            row = log.get_run(run_id)
            recorded_usage = log.usage_by_agent(row.run_id).get(agent)
        settings = settings_of_run(row.settings)
        updates: dict[str, Any] = {}
        if prompts_dir:
            updates["prompts_dir"] = prompts_dir
        if model:
            agents = {name: a.model_dump() for name, a in settings.agents.items()}
            agents.setdefault(agent, {})["model"] = model
            updates["agents"] = agents
        settings = settings_of_run({**settings.model_dump(), **updates})
        replay_id = str(ULID())
        with model_configs(settings) as configs, RunLog.open(home) as log:
            models = {name: make_chat_model(cfg) for name, cfg in configs.items()}
            ctx = build_context(settings, models=models, configs=configs, memory=None, run_id=replay_id)
            log.start_run(
                replay_id,
                settings={**safe_settings(settings, configs), "replay_of": row.run_id, "replay_agent": agent},
                date=row.date,
                categories=settings.categories,
            )
            try:
                outcome = asyncio.run(replay_agent(agent, row.run_id, ctx))  # type: ignore[arg-type]
            except BaseException as exc:
                log.finish_run(replay_id, status="failed", error=f"{type(exc).__name__}: {exc}")
                raise
            log.record_calls(replay_id, agent, outcome.new_calls)
            log.finish_run(replay_id, status="replay", date=row.date, prompts=ctx.prompts.used)
            new_cost, currency = ctx.total_cost(outcome.new_calls)
    _show(outcome, recorded_cost=recorded_usage.cost if recorded_usage else None, new_cost=new_cost,
          currency=currency, run_id=row.run_id, replay_id=replay_id)  # fmt: skip


def _tokens(calls: list[LLMCall]) -> str:
    tin, tout = sum(c.input_tokens for c in calls), sum(c.output_tokens for c in calls)
    return f"{len(calls)} call(s), {tin:,} in / {tout:,} out"


def _money(cost: float | None, currency: str) -> str:
    from ribao.ledger import money

    return money(cost, currency)


def _show(outcome: ReplayOutcome, *, recorded_cost: float | None, new_cost: float | None, currency: str,
          run_id: str, replay_id: str) -> None:  # fmt: skip
    from rich.console import Console

    console = Console(highlight=False)
    console.print(f"[bold]replay[/bold] of {outcome.agent} in run {run_id} (recorded as {replay_id})")
    {"screener": _picks, "critic": _critique, "writer": _summaries, "editor": _lead}[outcome.agent](
        outcome, console
    )
    console.print(f"recorded: {_tokens(outcome.recorded_calls)}, {_money(recorded_cost, currency)}")
    console.print(f"replay:   {_tokens(outcome.new_calls)}, {_money(new_cost, currency)}")


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
    old = {d.arxiv_id: d for d in outcome.recorded["critique"].decisions}
    new = {d.arxiv_id: d for d in outcome.new["critique"].decisions}
    for pid in dict.fromkeys([*old, *new]):
        a, b = old.get(pid), new.get(pid)
        table.add_row(pid, a.decision if a else "", a.reason if a else "", b.decision if b else "",
                      b.reason if b else "")  # fmt: skip
    console.print(table)
    console.print(f"verdict: {outcome.recorded['critique'].verdict} → {outcome.new['critique'].verdict}")


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
