"""`ribao memory`: what the memory of past digests holds, per reader profile; search it, forget a paper."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

import typer

from ribao.commands import cli_errors, command_group, echo_json

memory_app = command_group(no_args_is_help=True)

ProfileOpt = Annotated[str | None, typer.Option("--profile", "-p", help="Reader profile [default: default]")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON")]


def _show(rows: Sequence[Any], as_json: bool, empty: str, line: Callable[[Any], str]) -> None:
    """Print `rows` (pydantic models) as a JSON list, or one `line` each, or `empty` when there are none."""
    if as_json:
        echo_json([r.model_dump(mode="json") for r in rows])
        return
    if not rows:
        typer.echo(empty)
    for r in rows:
        typer.echo(line(r))


@memory_app.command()
def stats(profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """How many papers are remembered, over which days, with which embedder."""
    from ribao.app import memory_view
    from ribao.settings import load_settings

    with cli_errors():
        got = memory_view.stats(load_settings(), profile)
    if as_json:
        echo_json(got.model_dump(mode="json"))
        return
    days = f"{got.dates[0]} … {got.dates[-1]} ({len(got.dates)} days)" if got.dates else "none"
    typer.echo(f"memory     {got.location} (collection {got.collection})")
    typer.echo(f"papers     {got.count}")
    typer.echo(f"days       {days}")
    typer.echo(f"embedder   {got.embedder} (dim {got.dim})")


@memory_app.command("list")
def list_(
    profile: ProfileOpt = None,
    limit: Annotated[int, typer.Option(min=1, help="Most papers shown")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """The remembered papers, newest digest first: these are never featured again for this profile."""
    from ribao.app import memory_view
    from ribao.settings import load_settings

    with cli_errors():
        got = memory_view.papers(load_settings(), profile, limit)
    _show(
        got,
        as_json,
        "the memory is empty: papers are remembered once a digest featuring them is written",
        lambda p: f"{p.date}  {p.tier:<9} #{p.rank:<2} {p.arxiv_id:<12} {p.title}",
    )


@memory_app.command()
def search(
    text: Annotated[str, typer.Argument(help="Words or a title to look for")],
    profile: ProfileOpt = None,
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="Most papers shown")] = 5,
    as_json: JsonOpt = False,
) -> None:
    """The remembered papers nearest to TEXT (by embedding), most similar first."""
    from ribao.app import memory_view
    from ribao.settings import load_settings

    with cli_errors():
        hits = memory_view.search(load_settings(), text, profile, k)
    _show(
        hits,
        as_json,
        "the memory is empty: nothing to search",
        lambda h: f"{h.similarity:5.2f}  {h.paper.date}  {h.paper.arxiv_id:<12} {h.paper.title}",
    )


@memory_app.command()
def forget(
    arxiv_id: Annotated[str, typer.Argument(help="arXiv id of a remembered paper")],
    profile: ProfileOpt = None,
) -> None:
    """Forget one paper, so a later digest of this profile may feature it again. Exit 1 if not remembered."""
    from ribao.app import memory_view
    from ribao.settings import load_settings

    with cli_errors():
        existed = memory_view.forget(load_settings(), arxiv_id, profile)
    if not existed:
        typer.echo(f"ribao: error: {arxiv_id} is not in the memory", err=True)
        raise typer.Exit(1)
    typer.echo(f"forgot {arxiv_id}")
