"""`ribao db upgrade` and `ribao store migrate`: the databases behind the run log and checkpoints."""

from __future__ import annotations

from typing import Annotated

import typer

from ribao.commands import cli_errors, command_group

db_app = command_group(no_args_is_help=True)
store_app = command_group(no_args_is_help=True)


@db_app.command()
def upgrade() -> None:
    """Migrate the run log (and the checkpoint tables) to this ribao's schema; safe to run twice at once."""
    from ribao.app.store import upgrade_store
    from ribao.settings import load_settings

    with cli_errors():
        done = upgrade_store(load_settings())
    applied = ", ".join(done.applied) if done.applied else "nothing to apply"
    typer.echo(f"run log {done.where}: at revision {done.revision} ({applied})")


@store_app.command()
def migrate(
    to: Annotated[str, typer.Option("--to", metavar="URL", help="The Postgres database: postgresql://…")],
    memory_url: Annotated[
        str | None, typer.Option("--memory-url", metavar="URL", help="The Chroma server: http://host:port")
    ] = None,
) -> None:
    """Copy this home's run log and checkpoints to Postgres (and its memory to a Chroma server), checking
    the counts; the home is only read. Then set [store] url and [memory] url to use them."""
    from ribao.app.store import describe, migrate_store
    from ribao.settings import load_settings

    with cli_errors():
        done = migrate_store(load_settings(), to, memory_url)
    typer.echo(f"copied to {done.to}" + (f" and {done.memory_url}" if done.memory_url else "") + ":")
    typer.echo(f"  {describe(done)} (source/target, all equal)")
    if done.runs_present:
        typer.echo(f"  {done.runs_present} run(s) were there already and were left as they are")
