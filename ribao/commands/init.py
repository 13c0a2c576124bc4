"""`ribao init github-actions`: write the scheduled-run workflow into a repository."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ribao.commands import cli_errors, command_group

init_app = command_group(no_args_is_help=True)


@init_app.command("github-actions")
def github_actions(
    root: Annotated[Path, typer.Option(help="Repository root")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing workflow")] = False,
    prompts_job: Annotated[
        bool,
        typer.Option(
            "--prompts-job",
            help="Write .github/workflows/ribao-prompts.yml instead: pull requests touching prompts/"
            " replay the runs recorded in evals/home/, post the comparison, fail on regression",
        ),
    ] = False,
) -> None:
    """Write .github/workflows/ribao.yml: Mon-Fri 05:30 UTC, RIBAO_HOME cached, site on gh-pages
    (or, with --prompts-job, the pull-request job that measures prompt changes).

    The workflow installs ribao from the repository it runs in (pip install ".[embed]"): write it
    into your fork of ribao.
    """
    from ribao.delivery.schedule import is_ribao_checkout, write_workflow
    from ribao.evals.ci import RECORDED_HOME, write_prompts_workflow

    with cli_errors():
        path = write_prompts_workflow(root, force=force) if prompts_job else write_workflow(root, force=force)
    if not is_ribao_checkout(root):
        typer.echo(
            f"ribao: note: {root} holds no ribao source (pyproject.toml); the workflow installs ribao from"
            " the repository it runs in: commit it to your fork of ribao",
            err=True,
        )
    if prompts_job:
        typer.echo(
            f"wrote {path}; commit the runs it replays (runs.sqlite, checkpoints.sqlite and evals/refs/"
            f" of a ribao home) under {RECORDED_HOME}/, your prompts under prompts/, your key as a secret"
        )
        return
    typer.echo(f"wrote {path}; add your keys as repository secrets and commit ribao.toml (see README)")
