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
) -> None:
    """Write .github/workflows/ribao.yml: Mon-Fri 05:30 UTC, RIBAO_HOME cached, site on gh-pages.

    The workflow installs ribao from the repository it runs in (pip install ".[embed]"): write it
    into your fork of ribao.
    """
    from ribao.delivery.schedule import is_ribao_checkout, write_workflow

    with cli_errors():
        path = write_workflow(root, force=force)
    if not is_ribao_checkout(root):
        typer.echo(
            f"ribao: note: {root} holds no ribao source (pyproject.toml); the workflow installs ribao from"
            " the repository it runs in: commit it to your fork of ribao",
            err=True,
        )
    typer.echo(f"wrote {path}; add your keys as repository secrets and commit ribao.toml (see README)")
