"""`ribao config show` (each effective setting and its origin) and `ribao graph` (the graph as Mermaid)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

import typer

from ribao.commands import cli_errors, command_group, echo_json

config_app = command_group(
    help="Settings: flag > RIBAO_* env > <home>/config.toml > default.", no_args_is_help=True
)

VALUE_WIDTH = 40


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """Turn ``["memory.embedder=hash", "must_read=5"]`` into nested kwargs; values are JSON, else text.

    Raises `typer.BadParameter` for an item without ``=``.
    """
    flags: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--set")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        *parents, last = key.strip().split(".")
        node = flags
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return flags


def check_keys(flags: dict[str, Any]) -> None:
    """Raise `BadFlag` naming each ``--set`` key that no setting has, with the nearest valid one."""
    from ribao.errors import BadFlag
    from ribao.settings import Settings
    from ribao.settings_check import unknown_keys

    problems = [
        f"{key!r}" + (f" (did you mean {near!r}?)" if near else "")
        for key, near in unknown_keys(flags, Settings)
    ]
    if problems:
        raise BadFlag(f"--set: unknown setting {', '.join(problems)}")


@config_app.command()
def show(
    assignments: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="KEY=VALUE", help="Set a value as a flag would, e.g. must_read=5"),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON list of {key, value, origin}")
    ] = False,
) -> None:
    """Print every effective setting and where it came from: flag, env (RIBAO_X), file (<path>), default."""
    from ribao.settings_sources import explain_settings

    flags = parse_assignments(assignments or [])
    with cli_errors():
        check_keys(flags)
        rows = explain_settings(flags)
    if as_json:
        echo_json([{**asdict(r), "label": r.label} for r in rows])
        return
    key_width = max(len(r.key) for r in rows)
    values = [json.dumps(r.value, ensure_ascii=False) for r in rows]
    value_width = min(max(len(v) for v in values), VALUE_WIDTH)
    for row, value in zip(rows, values, strict=True):
        typer.echo(f"{row.key.ljust(key_width)}  {value.ljust(value_width)}  {row.label}")


def graph() -> None:
    """Print the compiled LangGraph as Mermaid (paste into a Markdown file or mermaid.live)."""
    from ribao.graph.builder import compile_graph

    typer.echo(compile_graph().get_graph().draw_mermaid().rstrip("\n"))
