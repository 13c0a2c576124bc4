"""`ribao site build`: write the static archive of every digest (for GitHub Pages)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ribao.commands import cli_errors, command_group

site_app = command_group(no_args_is_help=True)


@site_app.command()
def build(
    out: Annotated[Path, typer.Option(help="Site folder (replaced)")] = Path("site"),
    digests: Annotated[Path | None, typer.Option(help="Digests folder [default: out_dir]")] = None,
) -> None:
    """Build index.html, a page per day, search, feed.xml and .nojekyll from every <date>.json."""
    from ribao.delivery.site import build_site
    from ribao.settings import load_settings

    with cli_errors():
        settings = load_settings()
        result = build_site(digests or settings.out_dir, out, site_url=settings.site_url)
    typer.echo(f"{result.out}: {len(result.days)} day(s), {result.entries} searchable entries")
