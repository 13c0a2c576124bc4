"""A typer group that imports a command's module only when that command runs, so a fresh `ribao runs
why` does not pay for importing every other command's dependencies."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup

from ribao.commands import HelpGroup, command_group, first_sentence


@dataclass(frozen=True)
class Lazy:
    """One command: `target` (``module:attr``, a typer app or a command function), its one-line help
    for ``ribao --help`` (a command function's first sentence, a group's help), and `extra` modules
    that add commands to the target when imported."""

    target: str
    help: str
    extra: tuple[str, ...] = ()

    def load(self, name: str) -> TyperCommand | TyperGroup:
        """Import the target and return it as the click command `name`."""
        module, attr = self.target.split(":")
        obj = getattr(importlib.import_module(module), attr)
        for extra in self.extra:
            importlib.import_module(extra)
        parent = command_group()
        if isinstance(obj, typer.Typer):
            parent.add_typer(obj, name=name, help=self.help)
        else:
            parent.command(name)(obj)
        return typer.main.get_group(parent).commands[name]  # type: ignore[return-value]


class LazyGroup(HelpGroup):
    """A `TyperGroup` whose commands come from `table`, each imported on first use; its help lists them
    all from the table, importing none."""

    table: ClassVar[dict[str, Lazy]] = {}

    def list_commands(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        """Return every command's name, in the table's order."""
        return [*self.table, *(n for n in super().list_commands(ctx) if n not in self.table)]

    def get_command(self, ctx: typer.Context, cmd_name: str) -> TyperCommand | None:  # type: ignore[override]
        """Return command `cmd_name`, importing its module the first time."""
        if cmd_name not in self.commands and cmd_name in self.table:
            self.commands[cmd_name] = self.table[cmd_name].load(cmd_name)
        return super().get_command(ctx, cmd_name)  # type: ignore[return-value]

    def format_commands(self, ctx: typer.Context, formatter: Any) -> None:  # type: ignore[override]
        """Write the commands section of ``--help`` from the table's help lines (no import)."""
        rows = [(n, first_sentence(lazy.help)) for n, lazy in self.table.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
