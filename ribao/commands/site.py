"""`ribao site build`: write the static archive of every digest (for GitHub Pages)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ribao.commands import cli_errors, command_group, require_folder

site_app = command_group(no_args_is_help=True)


@site_app.command()
def build(
    out: Annotated[
        Path,
        typer.Option(
            help="Site folder: new, empty, or one an earlier build wrote (replaced); never the digests or"
            " home folder, inside them or holding them"
        ),
    ] = Path("site"),
    digests: Annotated[
        Path | None,
        typer.Option(
            help="Read only this folder's <date>.json [default: where the run log says, and out_dir]"
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an --out folder holding files the site did not write")
    ] = False,
    runs: Annotated[
        bool,
        typer.Option(
            "--runs", help="Add the page of the run behind each digest (runs/ID.html), linked from its day"
        ),
    ] = False,
) -> None:
    """Build index.html, a page per day, search, feed.xml and .nojekyll from every written digest.

    Each day's digest is the one its newest finished run wrote (found through the run log, wherever
    its --out was), else <out_dir>/<date>.json. The site is built beside --out and swapped in with
    one rename: a failed build leaves the old site as it was.
    """
    from ribao.app.site import build_archive
    from ribao.settings import load_settings

    with cli_errors():
        require_folder(digests, "--digests")
        result = build_archive(load_settings(), out, digests=digests, force=force, runs=runs)
    pages = f", {result.runs} run page(s)" if runs else ""
    typer.echo(f"{result.out}: {len(result.days)} day(s), {result.entries} searchable entries{pages}")
