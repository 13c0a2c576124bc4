"""`ribao` imports only the command group being run; `ribao --help` still lists every command as written."""

from __future__ import annotations

import json
import subprocess
import sys

import typer
from typer.testing import CliRunner

from ribao.cli import RibaoGroup, app
from ribao.commands import HelpGroup, first_sentence

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
    HelpGroup.format_commands(group, ctx, loaded)  # the listing written from the loaded commands
    assert lazy.getvalue() == loaded.getvalue()
    listed = CliRunner().invoke(app, ["--help"]).output.split("Commands:")[1]
    names = [line.split()[0] for line in listed.strip().splitlines() if not line.startswith("   ")]
    assert names == list(RibaoGroup.table)
    assert len(RibaoGroup.table) == 21


def test_commands_added_by_other_modules_are_there() -> None:
    runs = CliRunner().invoke(app, ["runs", "--help"]).output
    assert "why" in runs and "view" in runs
    evals = CliRunner().invoke(app, ["eval", "--help"]).output
    assert "\n  run " in evals and "\n  score " in evals


def _groups(group: typer.core.TyperGroup, ctx: typer.Context, path: list[str]) -> list[list[str]]:
    """Return the command path of `group` and of every group under it."""
    found = [path]
    for name in group.list_commands(ctx):
        sub = group.get_command(ctx, name)
        if isinstance(sub, typer.core.TyperGroup):
            found += _groups(sub, typer.Context(sub, info_name=name, parent=ctx), [*path, name])
    return found


def test_every_help_lists_each_command_with_its_whole_first_sentence() -> None:
    root = typer.main.get_command(app)
    groups = _groups(root, typer.Context(root, info_name="ribao"), [])  # type: ignore[arg-type]
    assert ["runs"] in groups and ["eval", "refs"] in groups
    for path in groups:
        shown = CliRunner().invoke(app, [*path, "--help"], terminal_width=80).output
        listed = "".join(shown.split("Commands:")[1].split())  # wrapping may break at a hyphen too
        group: typer.core.TyperGroup = root  # type: ignore[assignment]
        ctx = typer.Context(group, info_name="ribao")
        for name in path:
            group = group.get_command(ctx, name)  # type: ignore[assignment]
            ctx = typer.Context(group, info_name=name, parent=ctx)
        for name in group.list_commands(ctx):
            cmd = group.get_command(ctx, name)
            assert cmd is not None
            sentence = first_sentence(cmd.help or "")
            assert sentence.endswith((".", ")")), (path, name)
            assert "".join(f"{name} {sentence}".split()) in listed, (path, name)
            assert "..." not in listed, path
