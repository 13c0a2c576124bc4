"""The command groups of the `ribao` CLI, one module each; `command_group` makes their typer apps and
`cli_errors` is their shared error policy."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer

from ribao.errors import NoAnnouncement, RibaoError


def command_group(**kwargs: object) -> typer.Typer:
    """A `typer.Typer` whose help is printed as written: rich markup is off, because help texts name
    ``[[push]]`` tables and ``[default: …]`` values that rich would swallow as style tags."""
    return typer.Typer(rich_markup_mode=None, **kwargs)  # type: ignore[arg-type]


@contextlib.contextmanager
def cli_errors(interrupted: str = "ribao: interrupted", *, quiet: bool = False) -> Iterator[None]:
    """Turn a `RibaoError` into one ``ribao: error:`` line and its exit status; Ctrl-C into 130.

    A day without announcement is a normal outcome, not an error: ``ribao: no announcement: …``
    (silent with `quiet`, for cron), exit status 3.
    """
    try:
        yield
    except NoAnnouncement as exc:
        if not quiet:
            typer.echo(f"ribao: no announcement: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except RibaoError as exc:
        typer.echo(f"ribao: error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        typer.echo(interrupted, err=True)
        raise typer.Exit(130) from None
