"""`ribao runs why` and `ribao runs view`: one paper's path through a run, and the run's page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ribao.commands import cli_errors, echo_json
from ribao.commands.runs import IdArg, JsonOpt, runs_app
from ribao.commands.runs_log import require_run_log


@runs_app.command()
def why(
    run_id: IdArg,
    arxiv_id: Annotated[str, typer.Argument(help="The paper: an arXiv id in any form (2602.15763, a URL)")],
    as_json: JsonOpt = False,
) -> None:
    """Say why a paper was or was not picked: memory, triage score and rank, the shortlist cut, its
    rubric, each critic decision, replacements, its final tier (and relevance with a profile)."""
    from ribao.app.runview import explain_paper
    from ribao.settings import load_settings

    with cli_errors():
        require_run_log()
        path = explain_paper(load_settings(), run_id, arxiv_id)
    if as_json:
        echo_json(path.model_dump(mode="json"))
        return
    from ribao.runs.why_text import path_lines

    typer.echo("\n".join(path_lines(path)))


@runs_app.command()
def view(
    run_id: IdArg,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the page here [default: <home>/runs/<run id>.html]", dir_okay=False),
    ] = None,
) -> None:
    """Write one self-contained HTML page of a run and print its path.

    The page shows the graph with each node's status, a timeline of every task and LLM call, usage per
    agent and node, picks with their paths, critic rounds, deliveries, the failure, and every call's
    messages (collapsed)."""
    from ribao.app.runview import view_run
    from ribao.settings import load_settings

    with cli_errors():
        require_run_log()
        path = view_run(load_settings(), run_id, out)
    typer.echo(f"wrote {path}")
