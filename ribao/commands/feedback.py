"""`ribao feedback`: tell ribao which papers you liked, disliked or do not want, per reader profile."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ribao.commands import cli_errors, command_group, echo_json

feedback_app = command_group(no_args_is_help=True)

IdsArg = Annotated[
    list[str], typer.Argument(help="arXiv ids (any form: 2602.15067, arXiv:2602.15067v2, abs URL)")
]
ProfileOpt = Annotated[str | None, typer.Option("--profile", "-p", help="Reader profile [default: default]")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON")]


def _give(verb: str, ids: list[str], profile: str | None) -> None:
    from ribao.app import feedback
    from ribao.settings import load_settings

    with cli_errors():
        given = feedback.give(load_settings(), verb, ids, profile)  # type: ignore[arg-type]
    for entry in given.entries:
        seen = given.seen.get(entry.arxiv_id)
        where = f"  {seen.title} ({seen.date})" if seen else ""
        typer.echo(f"{verb:<14} {entry.arxiv_id}  [{given.profile}]{where}")
    if given.unseen:
        typer.echo(
            f"ribao: note: not a candidate of any recorded run: {', '.join(given.unseen)}; kept anyway "
            "(a run reads its title and abstract from arXiv when it needs them)",
            err=True,
        )


@feedback_app.command()
def like(ids: IdsArg, profile: ProfileOpt = None) -> None:
    """More papers like these: they pull alike candidates up for this profile."""
    _give("like", ids, profile)


@feedback_app.command()
def dislike(ids: IdsArg, profile: ProfileOpt = None) -> None:
    """Fewer papers like these: they push alike candidates down for this profile."""
    _give("dislike", ids, profile)


@feedback_app.command("not-interested")
def not_interested(ids: IdsArg, profile: ProfileOpt = None) -> None:
    """Not for me: counts as a dislike (alike candidates go down)."""
    _give("not-interested", ids, profile)


@feedback_app.command("list")
def list_(profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """Every feedback given, oldest first (of one profile with --profile)."""
    from ribao.app import feedback
    from ribao.settings import load_settings

    with cli_errors():
        got = feedback.entries(load_settings(), profile)
    rows: list[dict[str, Any]] = [
        {"id": e.id, "profile": e.profile, "verb": e.verb, "arxiv_id": e.arxiv_id,
         "at": e.at.isoformat(), "origin": e.origin, "title": e.title}
        for e in got
    ]  # fmt: skip
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo("no feedback yet: ribao feedback like ID… (or commit a feedback.toml, see README)")
        return
    for r in rows:
        title = f"  {r['title']}" if r["title"] else ""
        typer.echo(
            f"{r['at'][:10]}  {r['profile']:<12} {r['verb']:<14} {r['arxiv_id']:<12} {r['origin']:<4}{title}"
        )


@feedback_app.command()
def undo(profile: ProfileOpt = None) -> None:
    """Take back the newest feedback given on the command line (a feedback.toml is edited instead)."""
    from ribao.app import feedback
    from ribao.settings import load_settings

    with cli_errors():
        entry = feedback.undo(load_settings(), profile)
    if entry is None:
        typer.echo("nothing to undo")
    else:
        typer.echo(f"undone: {entry.verb} {entry.arxiv_id} [{entry.profile}] of {entry.at:%Y-%m-%d %H:%M}")


@feedback_app.command()
def reset(
    profile: ProfileOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask")] = False,
) -> None:
    """Forget every feedback of one profile (the default one without --profile)."""
    from ribao.app import feedback
    from ribao.profiles.names import check_profile
    from ribao.settings import load_settings

    with cli_errors():
        settings = load_settings()
        name = check_profile(settings, profile)
        if not yes and not typer.confirm(f"forget every feedback of profile {name!r}?"):
            raise typer.Exit(1)
        n = feedback.reset(settings, name)
    typer.echo(f"forgot {n} feedback event(s) of profile {name!r}")
