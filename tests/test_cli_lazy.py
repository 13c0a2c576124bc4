"""`ribao` imports only the command group being run; `ribao --help` still lists every command as written."""

from __future__ import annotations

import json
import subprocess
import sys

import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from ribao.cli import RibaoGroup, app

PROBE = """
import json, sys
from ribao.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    print(json.dumps(sorted(m for m in sys.modules if m.startswith(("ribao.commands.", "langgraph")))))
"""


def imported_by(*args: str) -> list[str]:
    """Run `ribao ARGS` in a fresh interpreter; return the command modules (and langgraph's) it imported."""
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_a_command_imports_its_own_group_only() -> None:
    assert imported_by("--help") == ["ribao.commands.lazy"]
    runs = imported_by("runs", "why", "--help")
    assert "ribao.commands.runs" in runs and "ribao.commands.runs_view" in runs
    assert not {"ribao.commands.prompts", "ribao.commands.eval", "ribao.commands.site"} & set(runs)
    assert not [m for m in runs if m.startswith("langgraph")]


def test_help_lists_every_command_with_its_own_short_help() -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, RibaoGroup)
    ctx = typer.Context(group, info_name="ribao")
    lazy, loaded = ctx.make_formatter(), ctx.make_formatter()
    group.format_commands(ctx, lazy)
    assert not group.commands  # the listing came from the table
    for name in RibaoGroup.table:
        assert group.get_command(ctx, name) is not None
    TyperGroup.format_commands(group, ctx, loaded)  # the listing typer writes from the loaded commands
    assert lazy.getvalue() == loaded.getvalue()
    listed = CliRunner().invoke(app, ["--help"]).output.split("Commands:")[1]
    assert [line.split()[0] for line in listed.strip().splitlines()] == list(RibaoGroup.table)
    assert len(RibaoGroup.table) == 21


def test_commands_added_by_other_modules_are_there() -> None:
    runs = CliRunner().invoke(app, ["runs", "--help"]).output
    assert "why" in runs and "view" in runs
    evals = CliRunner().invoke(app, ["eval", "--help"]).output
    assert "\n  run " in evals and "\n  score " in evals
