"""`ribao runs`: list the recorded runs, show one run, and trace what each node and LLM call did."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ribao.commands import cli_errors, command_group, echo_json
from ribao.commands.runs_log import open_log, require_run_log, run_log_path, store_url, table_console
from ribao.registry import Agent

runs_app = command_group(
    help="The run log (<home>/runs.sqlite): every run, its settings, picks, tokens, cost and LLM calls.",
    no_args_is_help=True,
)


class Status(StrEnum):
    """A run's status, as `runs list --status` accepts it."""

    running = "running"
    done = "done"
    failed = "failed"
    no_announcement = "no_announcement"
    interrupted = "interrupted"
    replay = "replay"


IdArg = Annotated[str, typer.Argument(help="Run id, a unique prefix of it, or latest")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")]


@runs_app.command("list")
def list_(
    status: Annotated[Status | None, typer.Option(help="Only runs with this status")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Most runs to list, latest first")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """List the latest runs: id, start, day, status, picks, tokens, cost, duration; with [store] url,
    then the digest jobs the queue holds (waiting, running, failed)."""
    from ribao.runs.render import runs_table

    with cli_errors():
        path = run_log_path()
        if not as_json:
            _show_queue()
        if not store_url() and not path.exists():
            typer.echo("[]" if as_json else f"No runs recorded yet in {path.parent}.")
            return
        with open_log() as log:
            runs = log.list_runs(status=status.value if status else None, limit=limit)
    if as_json:
        heavy = {"settings", "prompts", "picks", "critiques"}
        echo_json(
            [
                {**r.model_dump(mode="json", exclude=heavy), "picks": len(r.picks),
                 "profile": r.settings.get("profile"), "day_run": r.settings.get("day_run")}
                for r in runs
            ]
        )  # fmt: skip
    elif not runs:
        typer.echo("No runs" + (f" with status {status.value}." if status else "."))
    else:
        table_console().print(runs_table(runs))


QUEUE_STATES = {"todo": "queued", "doing": "running", "failed": "failed"}


def _show_queue() -> None:
    """Print the queue's unfinished digest jobs, when there is a queue and it holds any."""
    from ribao.app.queue import queued_jobs
    from ribao.settings import load_settings

    jobs = queued_jobs(load_settings())
    if jobs:
        typer.echo("Queue (ribao worker writes these):")
        for j in jobs:
            tries = f", {j.attempts} tries" if j.attempts > 1 else ""
            state = QUEUE_STATES.get(j.status, j.status)
            who = j.profile or "default"
            typer.echo(f"  job {j.job_id:<5} {state:<7} {j.day}  {who:<12} run {j.run_id}{tries}")


@runs_app.command()
def show(run_id: IdArg, as_json: JsonOpt = False) -> None:
    """Show one run: settings, prompt files, picks, critic rounds, tokens and cost per agent, outputs.
    A day run (several profiles) shows its profiles' runs."""
    from ribao.runs.render import runs_table, show_run

    with cli_errors(), open_log() as log:
        day = log.day_run_id(run_id)
        if day is not None and day.startswith(run_id.strip()):  # the day run itself, not one of its runs
            runs = log.profile_runs(day)
            if as_json:
                echo_json({"day_run": day, "runs": [r.model_dump(mode="json") for r in runs]})
                return
            table_console().print(f"day run {day}: {len(runs)} profile runs", markup=False)
            table_console().print(runs_table(runs))
            return
        run = log.get_run(run_id)
        usage = log.usage_by_agent(run.run_id)
        pushes = log.deliveries(run.run_id)
    if as_json:
        by_agent = {agent: u.model_dump(mode="json") for agent, u in usage.items()}
        echo_json({**run.model_dump(mode="json"), "by_agent": by_agent, "deliveries": pushes})
    else:
        show_run(table_console(), run, usage, pushes)


@runs_app.command()
def trace(
    run_id: IdArg,
    agent: Annotated[Agent | None, typer.Option(help="Only this agent's calls", case_sensitive=False)] = None,
    max_chars: Annotated[
        int, typer.Option(min=0, help="Clip each message and reply to N characters (0: whole)")
    ] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Trace a run: each node task's inputs, outputs and duration; each LLM call's prompt and reply."""
    from ribao.runs.trace_view import calls_of, show_trace

    with cli_errors(), open_log() as log:
        run = log.get_run(run_id)
        nodes = log.nodes(run.run_id)
        calls = log.calls(run.run_id, agent=agent and agent.value)
    if agent:
        nodes = [n for n in nodes if calls_of(n, calls)]
    if as_json:
        echo_json({"run_id": run.run_id, "status": run.status,
                    "nodes": [n.model_dump(mode="json") for n in nodes],
                    "calls": [c.model_dump(mode="json") for c in calls]})  # fmt: skip
        return
    console = table_console()
    console.print(f"run {run.run_id}  {run.status}  day {run.date or '-'}", markup=False)
    if agent and not calls:
        console.print(f"no LLM calls by {agent.value!r} in this run", markup=False)
    show_trace(console, nodes, calls, agent=agent and agent.value, max_chars=max_chars)


@runs_app.command()
def resume(
    run_id: IdArg,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No trace; only errors")] = False,
) -> None:
    """Continue a run that was interrupted, killed or failed, from its last checkpoint.

    Finished nodes and finished writer tasks are not run (or paid for) again; the run keeps its
    id, settings and prompt folder, and writes the digest it would have written.
    """
    from ribao.app.services import settings_of_run
    from ribao.commands.run import run_and_report, run_profiles_and_report
    from ribao.settings import load_settings

    with cli_errors(), open_log() as log:
        day = log.day_run_id(run_id)
    if day is not None:  # a run of several profiles resumes as a whole
        with cli_errors():
            settings = load_settings()
        run_profiles_and_report(settings, [], date=None, quiet=quiet, as_json=False, day_run=day)
        return
    with cli_errors(), open_log() as log:
        row = log.get_run(run_id)
    of = row.settings.get("replay_of")
    if row.status == "replay" or of:  # no checkpoint of its own; resuming would overwrite its record
        typer.echo(f"ribao: error: run {row.run_id} is a replay of {of}: nothing to resume", err=True)
        raise typer.Exit(1)
    if row.status == "running":  # its process is alive (else: interrupted): a second one would pay twice
        where = f"process {row.pid} on {row.host}" if row.pid else "another process"
        typer.echo(f"ribao: error: run {row.run_id} is still running ({where}); nothing to resume", err=True)
        raise typer.Exit(1)
    if row.status == "done":
        typer.echo(f"ribao: run {row.run_id} already finished: {row.digest_path}", err=True)
        raise typer.Exit(0)
    with cli_errors():
        settings = settings_of_run(row.settings)
    profile = row.settings.get("profile")  # the reader of a `run --profile NAME` run
    scope = row.settings.get("shared_scope")  # a queue job's: the work its batch shares
    run_and_report(
        settings, date=row.date, quiet=quiet, as_json=False, run_id=row.run_id,
        profile=str(profile) if profile else None, scope=str(scope) if scope else None,
    )  # fmt: skip


@runs_app.command()
def diff(
    run_a: Annotated[str, typer.Argument(help="Run A: an id, a unique prefix of it, or latest")],
    run_b: Annotated[str, typer.Argument(help="Run B (e.g. a replay of A, or another day's run)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON")] = False,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html", help="Write the diff as one self-contained HTML page (-: stdout)", dir_okay=False
        ),
    ] = None,
) -> None:
    """Compare two runs: settings, prompt files (with a text diff), picks, per-agent calls, tokens,
    cost and latency, and the LLM calls of both aligned by node and task with a diff of each reply."""
    from ribao.app.rundiff import diff_recorded
    from ribao.errors import BadFlag
    from ribao.files import folder_problem, write_file
    from ribao.settings import load_settings

    to_stdout = html is not None and str(html) == "-"
    with cli_errors():
        if as_json and html:
            raise BadFlag("give --json or --html, not both")
        if html and not to_stdout and (problem := folder_problem(html.parent)):
            raise BadFlag(f"--html {html}: {problem}")  # before reading anything
        require_run_log()
        result = diff_recorded(load_settings(), run_a, run_b)
    if as_json:
        echo_json(result.model_dump(mode="json"))
    elif html:
        from ribao.errors import OutputError
        from ribao.runs.diff_page import render_page

        page = render_page(result)
        if to_stdout:
            typer.echo(page)
            return
        with cli_errors():
            try:
                write_file(html, page)  # atomic: Ctrl-C or a full disk leaves no half page
            except OSError as exc:
                raise OutputError(f"cannot write {html}: {exc.strerror or exc}") from None
        typer.echo(f"wrote {html}")
    else:
        from ribao.runs.diff_view import show_diff

        show_diff(table_console(), result)


@runs_app.command("export")
def export_(
    run_id: IdArg,
    endpoint: Annotated[
        str | None, typer.Option(help="OTLP/HTTP traces URL (default: [tracing] otlp_endpoint)")
    ] = None,
) -> None:
    """Send a recorded run to an OpenTelemetry collector (OTLP/HTTP): the run, its node tasks and LLM
    calls as spans with the GenAI semantic-convention attributes (model, provider, tokens)."""
    from ribao.app.tracing import export_recorded
    from ribao.settings import load_settings

    with cli_errors():
        require_run_log()
        run, count, url = export_recorded(load_settings(), run_id, endpoint)
    typer.echo(f"exported run {run}: {count} spans to {url}")
