"""`ribao eval run`: replay agents with other prompts or another model on recorded runs, as an experiment."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ribao.commands import cli_errors, echo_json
from ribao.commands.eval import eval_app
from ribao.errors import BadFlag, ConfigError
from ribao.registry import AGENTS_TEXT, Agent

if TYPE_CHECKING:
    from ribao.app.experiment import ExperimentReport


def _split(values: list[str] | None) -> list[str]:
    """Flatten repeated and comma-separated values (``--runs A,B --runs C``)."""
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


@eval_app.command("run")
def eval_run(
    agent: Annotated[
        list[Agent], typer.Option("--agent", help=f"Agent to replay, repeatable: {AGENTS_TEXT}")
    ],
    runs: Annotated[
        list[str] | None,
        typer.Option(
            "--runs", help="Recorded runs to replay (ids, prefixes; all: every day on record), repeatable"
        ),
    ] = None,
    days: Annotated[
        str | None, typer.Option("--days", help="Or the newest finished run of each day D..D")
    ] = None,
    prompts_dir: Annotated[
        str | None, typer.Option(help="Prompt folder for the replayed agents [default: each run's own]")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Another model for the replayed agents")] = None,
    repeat: Annotated[int, typer.Option(min=1, max=20, help="Replays per run (stability)")] = 1,
    name: Annotated[str, typer.Option(help="A name to find the experiment by")] = "",
    judge: Annotated[
        str | None,
        typer.Option(help="LLM judge of the summaries: PROVIDER or PROVIDER:MODEL [default: eval.judge]"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
) -> None:
    """Replay agents (and every node after them) on recorded runs and record the experiment.

    No arXiv request, digest file, memory or push: each replay is a run on record (status replay)
    whose outputs `ribao eval compare` scores. The models are your current settings' (`--model`
    for the replayed agents); the rest of each run's settings are its own.
    """
    from ribao.app.experiment import eval_run as run_use_case
    from ribao.app.experiment import parse_days
    from ribao.app.judge import judge_config
    from ribao.commands.runs_log import require_run_log
    from ribao.settings import load_settings
    from ribao.settings_check import check_prompts_dir

    with cli_errors():
        ids = _split(runs)
        if bool(ids) == bool(days):
            raise BadFlag("give either --runs ID… or --days D..D")
        try:
            span = parse_days(days) if days else None
        except ValueError as exc:
            raise BadFlag(str(exc)) from None
        check_prompts_dir(None if prompts_dir is None else Path(prompts_dir), flag=True)
        settings = load_settings()
        if judge:
            try:
                judge_config(settings, judge)
            except ConfigError as exc:
                raise BadFlag(str(exc)) from None
        require_run_log()
        report = run_use_case(
            settings, agents=[a.value for a in agent], model=model, runs=ids, days=span,
            prompts_dir=str(Path(prompts_dir).resolve()) if prompts_dir else None, repeat=repeat, name=name,
            judge=judge,
        )  # fmt: skip
    if as_json:
        echo_json(report.as_json())
        return
    _show(report)


def _show(report: ExperimentReport) -> None:
    from rich.console import Console

    console = Console(highlight=False)
    exp = report.experiment
    console.print(
        f"experiment [bold]{exp.label}[/bold]: {', '.join(exp.agents)} replayed in {report.seconds:.1f} s"
    )
    for base, replays in exp.runs.items():
        console.print(f"  {base} → {', '.join(replays)}")
    for base, why in report.skipped.items():
        console.print(f"  skipped {base}: {why}", markup=False)
    for replay, why in report.failed.items():
        console.print(f"  failed {replay}: {why}", markup=False)
    for run_id, errors in report.judge_errors.items():
        for item, why in errors.items():
            console.print(f"  judge failed on {item} of {run_id}: {why}", markup=False)
    for day in report.missing_days:
        console.print(f"  no finished run on {day}")
    console.print(f"compare: ribao eval compare baseline {exp.id}", markup=False)
