"""The command groups of the `ribao` CLI, one module each; `command_group` makes their typer apps,
`cli_errors` is their shared error policy, `parse_date` reads every date they are given and
`require_folder` every folder they read from."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, overload

import typer
from typer.core import TyperGroup

from ribao.errors import BadFlag, NoAnnouncement, RibaoError
from ribao.masking import scrub


def first_sentence(help_text: str) -> str:
    """Return the first sentence of a command's help, whole (click cuts it at 45 characters or so)."""
    words = help_text.split("\n\n")[0].split()
    words = words[1:] if words[:1] == ["\b"] else words
    end = next((i for i, w in enumerate(words) if w.endswith(".")), len(words) - 1)
    return " ".join(words[: end + 1])


class HelpGroup(TyperGroup):
    """A command group whose ``--help`` lists each command with the whole first sentence of its help,
    wrapped to the terminal, never cut short with "..."."""

    def format_commands(self, ctx: typer.Context, formatter: Any) -> None:  # type: ignore[override]
        """Write the commands section of ``--help``: name and first sentence of each visible command."""
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, first_sentence(cmd.short_help or cmd.help or "")))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def command_group(**kwargs: Any) -> typer.Typer:
    """A `typer.Typer` whose help is printed as written: rich markup is off, because help texts name
    ``[[push]]`` tables and ``[default: …]`` values that rich would swallow as style tags; its command
    list shows each command's whole first sentence (`HelpGroup`)."""
    kwargs.setdefault("cls", HelpGroup)
    return typer.Typer(rich_markup_mode=None, **kwargs)


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
        # One last guard for every message: a database or server URL is shown without its password.
        then = f" (continue with: ribao runs resume {exc.resume_id})" if exc.resume_id else ""
        typer.echo(f"ribao: error: {scrub(str(exc))}{then}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        typer.echo(interrupted, err=True)
        raise typer.Exit(130) from None


def echo_json(value: Any) -> None:
    """Print `value` as indented JSON, non-ASCII as written (dates and paths as strings)."""
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def require_folder(path: str | Path | None, flag: str) -> None:
    """Raise `BadFlag` (exit status 2) when a folder given as `flag` to read from is not one."""
    if path is not None and not Path(path).is_dir():
        what = "is not a folder" if Path(path).exists() else "no such folder"
        raise BadFlag(f"{flag} {path}: {what}")


@overload
def parse_date(value: str, *, flag: str = ..., latest: Literal[False] = ...) -> dt.date: ...
@overload
def parse_date(value: str | None, *, flag: str = ..., latest: bool = ...) -> dt.date | None: ...
def parse_date(value: str | None, *, flag: str = "--date", latest: bool = False) -> dt.date | None:
    """Parse a ``YYYY-MM-DD`` date given as `flag`; None when not given (and, with `latest`, for ``latest``).

    A malformed value is a typer usage error (exit status 2) naming `flag` and the expected form.
    """
    if value is None or (latest and value == "latest"):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        expected = "YYYY-MM-DD or latest" if latest else "YYYY-MM-DD"
        raise typer.BadParameter(f"expected {expected}, got {value!r}", param_hint=flag) from None
