"""`ribao prompts`: list, show, edit, diff, reset and check the prompt files (user folder over package)."""

from __future__ import annotations

import difflib
import hashlib
import os
import shlex
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from ribao.agents.prompt_samples import sample_variables
from ribao.commands import cli_errors, command_group
from ribao.errors import ConfigError, RibaoError
from ribao.prompts import PACKAGE_DIR, PromptLibrary
from ribao.prompts.check import check_prompts, prompt_files, select, stray_user_files
from ribao.registry import AGENTS_TEXT

prompts_app = command_group(
    help="Prompt files: the package defaults and your overrides in <home>/prompts.",
    no_args_is_help=True,
)

DirOpt = Annotated[
    Path | None, typer.Option("--prompts-dir", help="Prompt overrides [default: <home>/prompts]")
]
AgentArg = Annotated[str, typer.Argument(help=f"{AGENTS_TEXT}; or agent/name")]
NameOpt = Annotated[
    str | None, typer.Argument(help="File name, e.g. must_read or must_read.md.j2 [default: all]")
]
NameArg = Annotated[str | None, typer.Argument(help="File name, e.g. must_read or must_read.md.j2")]


def user_dir(prompts_dir: Path | None) -> Path:
    """Return the prompt folder a run would read (`--prompts-dir`, else the settings' `prompts_folder`).

    Raises `ConfigError` on bad settings, `BadFlag` when `prompts_dir` is not a folder.
    """
    from ribao.settings import load_settings

    return load_settings(prompts_dir=prompts_dir).prompts_folder


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=False)]
        typer.echo("  ".join([*cells, row[-1]]))


@prompts_app.command("list")
def list_(prompts_dir: DirOpt = None) -> None:
    """List every prompt file: agent, file, default or user, sha256 (first 8 hex digits)."""
    with cli_errors():
        folder = user_dir(prompts_dir)
        library = PromptLibrary(user_dir=folder)
        rows = [("agent", "file", "source", "sha256")]
        for f in prompt_files():
            path, source = library.path_of(f.rel)
            rows.append((f.agent, f.name + ".md.j2", source, _sha(path)[:8]))
        for rel in stray_user_files(folder):
            agent, name = rel.split("/", 1)
            rows.append((agent, name, "unused", _sha(folder / rel)[:8]))
        _table(rows)


@prompts_app.command()
def show(agent: AgentArg, name: NameOpt = None, prompts_dir: DirOpt = None) -> None:
    """Print the effective text of one file, or of all the agent's files with a header each."""
    with cli_errors():
        library = PromptLibrary(user_dir=user_dir(prompts_dir))
        files = select(agent, name)
        for i, f in enumerate(files):
            path, source = library.path_of(f.rel)
            if len(files) > 1:
                typer.echo(("\n" if i else "") + f"==> {f.rel} ({source}: {path}) <==")
            text = path.read_text(encoding="utf-8")
            typer.echo(text, nl=not text.endswith("\n"))


def _editor() -> list[str]:
    return shlex.split(os.environ.get("EDITOR") or os.environ.get("VISUAL") or "vi")


@prompts_app.command()
def edit(agent: AgentArg, name: NameArg = None, prompts_dir: DirOpt = None) -> None:
    """Copy the default to the user folder (unless already there), then open it in $EDITOR."""
    with cli_errors():
        files = select(agent, name)
        if len(files) != 1:
            known = ", ".join(f.name for f in files)
            raise ConfigError(f"name one file of {files[0].agent} to edit; known: {known}")
        if prompts_dir is not None:  # editing is how a new prompt folder gets its first file
            prompts_dir.mkdir(parents=True, exist_ok=True)
        target = user_dir(prompts_dir) / files[0].rel
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(PACKAGE_DIR / files[0].rel, target)
            typer.echo(f"copied the default to {target}", err=True)
        command = [*_editor(), str(target)]
        try:
            done = subprocess.run(command, check=False)
        except FileNotFoundError:
            raise ConfigError(f"editor {command[0]!r} not found; set $EDITOR") from None
        if done.returncode != 0:
            raise RibaoError(f"editor {command[0]!r} exited with status {done.returncode}; {target} kept")


@prompts_app.command()
def diff(agent: AgentArg, name: NameOpt = None, prompts_dir: DirOpt = None) -> None:
    """Print a unified diff of default against user copy; nothing when they are the same or no copy."""
    with cli_errors():
        folder = user_dir(prompts_dir)
        for f in select(agent, name):
            user = folder / f.rel
            if not user.is_file():
                continue
            default = PACKAGE_DIR / f.rel
            lines = difflib.unified_diff(
                default.read_text(encoding="utf-8").splitlines(),
                user.read_text(encoding="utf-8").splitlines(),
                fromfile=str(default),
                tofile=str(user),
                lineterm="",
            )
            for line in lines:
                typer.echo(line)


@prompts_app.command()
def reset(
    agent: AgentArg,
    name: NameOpt = None,
    prompts_dir: DirOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before removing")] = False,
) -> None:
    """Remove the user copy of one file (or of all the agent's files), so the default applies again."""
    with cli_errors():
        folder = user_dir(prompts_dir)
        targets = [folder / f.rel for f in select(agent, name) if (folder / f.rel).is_file()]
        if not targets:
            typer.echo(f"no user copy in {folder}; nothing to reset")
            return
        if not yes:
            typer.confirm(f"remove {', '.join(map(str, targets))}?", abort=True)
        for path in targets:
            path.unlink()
            typer.echo(f"removed {path}")


@prompts_app.command()
def check(prompts_dir: DirOpt = None) -> None:
    """Render every effective prompt file with sample data; exit 1 with a line per problem."""
    with cli_errors():
        folder = user_dir(prompts_dir)
        problems = check_prompts(PromptLibrary(user_dir=folder), sample_variables())
        if problems:
            for problem in problems:
                typer.echo(str(problem))
            typer.echo(f"{len(problems)} problem(s) in the prompt files", err=True)
            raise typer.Exit(1)
        typer.echo(f"{len(prompt_files())} prompt files OK")
