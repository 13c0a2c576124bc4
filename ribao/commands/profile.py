"""`ribao profile list | show NAME`: the configured readers and what each resolves to."""

from __future__ import annotations

from typing import Annotated

import typer

from ribao.commands import cli_errors, command_group

profile_app = command_group(no_args_is_help=True)

_KEYWORDS_FROM = {
    "profile": "set in the profile",
    "interests": "the interests as written",
    "cache": "derived by the model, cached",
    "model": "derived by the model now",
    "none": "none",
}


@profile_app.command("list")
def list_() -> None:
    """List the [profiles.NAME] readers of config.toml (none: one default, the editorial stance)."""
    from ribao.app.profiles import list_profiles
    from ribao.settings import load_settings

    with cli_errors():
        lines = list_profiles(load_settings())
    if not lines:
        typer.echo(
            "no profiles: runs pick for the default editorial stance (add [profiles.NAME] to config.toml;"
            " `ribao profile show example` shows the demo's bundled reader)"
        )
        return
    for line in lines:
        extra = [f"{line.seeds} seed papers"] + ([f"library {line.library}"] if line.library else [])
        typer.echo(f"{line.name:<16} {line.interests or '(no interests)'}  ({', '.join(extra)})")


@profile_app.command()
def show(name: Annotated[str, typer.Argument(help="The profile's name, as in [profiles.NAME]")]) -> None:
    """Show what profile NAME resolves to: keywords, seed and library papers found, weights."""
    from ribao.app.profiles import show_profile
    from ribao.settings import load_settings

    with cli_errors():
        res = show_profile(load_settings(), name)
    p, s = res.profile, res.profile.settings
    typer.echo(f"profile {p.name}")
    typer.echo(f"  interests: {s.interests.strip() or '(none)'}")
    if p.keywords:
        typer.echo(f"  keywords ({_KEYWORDS_FROM[res.keywords_from]}): {', '.join(p.keywords)}")
    elif s.interests.strip():
        typer.echo(
            f"  keywords: not derived yet; `ribao run --profile {p.name}` derives them once "
            "(or set keywords = [...] in the profile)"
        )
    typer.echo(f"  seed papers: {len(p.seeds)} found of {len(s.seed_papers)}")
    for paper in p.seeds:
        typer.echo(f"    {paper.arxiv_id}  {paper.title}")
    if res.seeds.missing:
        why = f" ({res.seeds.error})" if res.seeds.error else ""
        typer.echo(f"    not found: {', '.join(res.seeds.missing)}{why}")
    if s.library:
        typer.echo(f"  library: {len(p.library)} papers in {s.library}")
    for label, values in (("authors", s.authors), ("avoid", s.avoid)):
        if values:
            typer.echo(f"  {label}: {', '.join(values)}")
    typer.echo(f"  feedback: {len(p.liked)} liked, {len(p.disliked)} disliked or not interested")
    typer.echo(f"  relevance weight {s.relevance_weight:g}, floor {s.floor:g}")
