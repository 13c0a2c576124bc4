"""`ribao push DATE [--to NAME]`: (re)send a written digest to its push channels."""

from __future__ import annotations

from typing import Annotated

import typer

from ribao.commands import cli_errors, parse_date, require_folder
from ribao.errors import PushFailed


def report_pushes(records: list, *, quiet: bool = False) -> None:  # type: ignore[type-arg]
    """Print one line per channel (failures on stderr); raise `PushFailed` (exit 5) if any failed."""
    failed = [r for r in records if r.status != "ok"]
    for r in records:
        if r.status == "ok" and not quiet:
            cut = f", {r.cut} row(s) cut to fit" if r.cut else ""
            typer.echo(
                f"pushed {r.channel} ({r.format}, {r.parts} part(s), {r.bytes:,} bytes{cut})", err=True
            )
    for r in failed:
        after = f" (after {r.attempts} attempt(s))" if r.attempts else ""  # 0: nothing was sent
        typer.echo(f"ribao: push failed: {r.channel}: {r.error}{after}", err=True)
    if failed:
        raise PushFailed(f"{len(failed)} of {len(records)} push channel(s) failed; the digest is written")


def push(
    date: Annotated[str, typer.Argument(help="Announcement day YYYY-MM-DD of a written digest")],
    to: Annotated[
        list[str] | None, typer.Option("--to", metavar="NAME", help="Only this [[push]] name (repeatable)")
    ] = None,
    out: Annotated[
        str | None,
        typer.Option(
            help="Read the digest from this folder only [default: where the run log says, else out_dir]"
        ),
    ] = None,
) -> None:
    """(Re)send a written digest to every configured push channel, or only those named by --to.

    The digest is the one the newest finished run of DATE wrote (wherever its --out was), found
    through the run log; else <out_dir>/DATE.json.
    """
    from ribao.app.resend import resend
    from ribao.settings import load_settings

    day = parse_date(date, flag="DATE")
    with cli_errors():
        require_folder(out, "--out")
        settings = load_settings(out_dir=out, delivery={"only": to} if to else None)  # checks the names
        report_pushes(resend(settings, day, to or None, search_runs=out is None))
