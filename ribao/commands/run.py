"""`ribao run` and `ribao fetch`: write a day's digest, or show what would be read."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ribao.commands import cli_errors, parse_date

if TYPE_CHECKING:
    from ribao.app.write import RunResult
    from ribao.settings import Settings


def split_categories(value: str | None) -> list[str] | None:
    """Split ``cs.CL,cs.AI`` into a list; None when not given."""
    return [c.strip() for c in value.split(",") if c.strip()] if value else None


def report(result: RunResult, *, quiet: bool, as_json: bool) -> None:
    """Print the end-of-run summary (path, day, counts, tokens, cost, time, run id)."""
    if as_json:
        data = {**result.__dict__, "date": result.date.isoformat()}
        data["deliveries"] = [d.model_dump() for d in result.deliveries]
        typer.echo(json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in data.items()}))
        return
    if quiet:
        return
    from ribao.ledger import money

    cost = money(result.cost, result.currency)
    typer.echo(
        f"{result.digest_path}  ({result.date}, {result.scanned} screened, {result.picks} picked, "
        f"{result.input_tokens + result.output_tokens:,} tokens, {cost}, {result.seconds:.0f}s, "
        f"run {result.run_id})"
    )


def run_and_report(
    settings: Settings,
    *,
    date: dt.date | None,
    quiet: bool,
    as_json: bool,
    refresh: bool = False,
    run_id: str | None = None,
    profile: str | None = None,
    scope: str | None = None,
) -> None:
    """Write the day's digest (or, given `run_id`, resume that run, sharing work with `scope`) and report
    the outcome."""
    from ribao.app.write import resume, run_day
    from ribao.runs.trace import Tracer

    interrupted = "ribao: interrupted; nothing was written (continue with: ribao runs resume latest)"
    from ribao.commands.push import report_pushes

    tracer = Tracer(quiet=quiet)
    with cli_errors(interrupted, quiet=quiet):
        if run_id:
            result = resume(settings, run_id, date, tracer=tracer, profile=profile, scope=scope)
        else:
            result = run_day(settings, date, tracer=tracer, refresh=refresh, profile=profile)
    report(result, quiet=quiet, as_json=as_json)
    with cli_errors():
        report_pushes(result.deliveries, quiet=quiet or as_json)


DateOpt = Annotated[
    str | None,
    typer.Option(
        "--date", help="Announcement day YYYY-MM-DD or latest [default: the file's day; API: latest]"
    ),
]
CatOpt = Annotated[str | None, typer.Option(help="Comma-separated categories [default: cs.CL,cs.AI,cs.LG]")]
SourceOpt = Annotated[
    str | None,
    typer.Option(help="arxiv (listing feed + API), or a file: JSONL, saved RSS/Atom listing feed, API Atom"),
]
NoCrossOpt = Annotated[
    bool,
    typer.Option("--no-cross-lists", help="Drop papers whose primary category is not one of --categories"),
]
RefreshOpt = Annotated[
    bool, typer.Option("--refresh", help="Re-read the day from arXiv and replace its cache")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No trace; only errors (for cron)")]


def run(
    date: DateOpt = None,
    categories: CatOpt = None,
    source: SourceOpt = None,
    must_read: Annotated[int | None, typer.Option(help="Must-read picks [default: 3]")] = None,
    notable: Annotated[int | None, typer.Option(help="Notable picks [default: 10]")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder for <date>.md/.json/.html [default: ./digests]")
    ] = None,
    llm: Annotated[
        str | None,
        typer.Option(
            help="Provider: openai, deepseek, qwen, glm, kimi, doubao, ollama, a [providers] name, or local"
        ),
    ] = None,
    local_model: Annotated[
        Path | None, typer.Option(help="GGUF for --llm local [default: SmolLM2-135M]")
    ] = None,
    prompts_dir: Annotated[
        Path | None, typer.Option(help="Prompt overrides [default: <home>/prompts]")
    ] = None,
    no_cross_lists: NoCrossOpt = False,
    refresh: RefreshOpt = False,
    stars: Annotated[
        bool, typer.Option("--stars", help="Show GitHub stars beside code links (online)")
    ] = False,
    no_fulltext: Annotated[
        bool,
        typer.Option(
            "--no-fulltext", help="Write from title and abstract only (no arXiv HTML/PDF/e-print fetch)"
        ),
    ] = False,
    no_push: Annotated[bool, typer.Option("--no-push", help="Send the digest to no push channel")] = False,
    push: Annotated[
        list[str] | None,
        typer.Option("--push", metavar="NAME", help="Send only to this [[push]] name (repeatable)"),
    ] = None,
    profile: Annotated[
        list[str] | None,
        typer.Option(
            "--profile",
            metavar="NAME",
            help="Pick for this [profiles.NAME] reader (ribao profile list); repeatable",
        ),
    ] = None,
    all_profiles: Annotated[
        bool, typer.Option("--all-profiles", help="Write for every [profiles.NAME] of config.toml")
    ] = False,
    quiet: QuietOpt = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run summary as JSON")] = False,
) -> None:
    """Write the digest of one announcement day: fetch → memory → screen ⇄ critique → full text → write
    → digest, then push it to every configured push channel. Exit 5: digest written, a push failed.
    With --profile/--all-profiles: one digest per profile, triage and summaries paid once."""
    from ribao.settings import load_settings

    with cli_errors():
        settings = load_settings(
            categories=split_categories(categories),
            source=source,
            must_read=must_read,
            notable=notable,
            out_dir=out,
            llm=llm,
            prompts_dir=prompts_dir,
            include_cross_lists=False if no_cross_lists else None,
            local={"model_path": local_model} if local_model else None,
            github={"stars": True} if stars else None,
            fulltext={"enabled": False} if no_fulltext else None,
            delivery={"enabled": False} if no_push else {"only": push} if push else None,
        )
    day = parse_date(date, latest=True)
    if all_profiles or len(profile or []) > 1:
        from ribao.app.day import profiles_to_run

        with cli_errors():
            names = profiles_to_run(settings, profile or [], all_profiles)
        run_profiles_and_report(settings, names, date=day, quiet=quiet, as_json=as_json, refresh=refresh)
        return
    one = profile[0] if profile else None  # one reader: an ordinary run, no day run
    run_and_report(settings, date=day, quiet=quiet, as_json=as_json, refresh=refresh, profile=one)


def run_profiles_and_report(
    settings: Settings,
    names: list[str],
    *,
    date: dt.date | None,
    quiet: bool,
    as_json: bool,
    refresh: bool = False,
    day_run: str | None = None,
) -> None:
    """Write the day for profiles `names` (or, given `day_run`, resume that day run); report each profile."""
    from ribao.app.day import resume_profiles, run_profiles
    from ribao.commands.push import report_pushes
    from ribao.runs.trace import Tracer

    tracer = Tracer(quiet=quiet)
    with cli_errors("ribao: interrupted (continue with: ribao runs resume latest)", quiet=quiet):
        if day_run:
            result = resume_profiles(settings, day_run, tracer=tracer)
        else:
            result = run_profiles(settings, date, names, tracer=tracer, refresh=refresh)
    if not quiet and not as_json:
        typer.echo(f"day run {result.day_run}: {len(result.runs) + len(result.done_before)} profiles")
        for name, run_id in result.done_before.items():
            typer.echo(f"{name}: already written by run {run_id}")
    for name, one in result.runs.items():
        if as_json:
            data = {**one.__dict__, "date": one.date.isoformat(), "profile": name, "day_run": result.day_run}
            data["deliveries"] = [d.model_dump() for d in one.deliveries]
            typer.echo(json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in data.items()}))
            continue
        if not quiet:
            typer.echo(f"{name}: ", nl=False)
        report(one, quiet=quiet, as_json=False)
    with cli_errors():
        report_pushes([d for one in result.runs.values() for d in one.deliveries], quiet=quiet or as_json)


def fetch(
    date: DateOpt = None,
    categories: CatOpt = None,
    source: SourceOpt = None,
    no_cross_lists: NoCrossOpt = False,
    refresh: RefreshOpt = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per paper per line")] = False,
) -> None:
    """Print the normalised listing of one announcement day (what the screener would read)."""
    from ribao.app.services import read_day
    from ribao.settings import load_settings
    from ribao.sources import paper_to_json

    with cli_errors():
        settings = load_settings(
            source=source,
            categories=split_categories(categories),
            include_cross_lists=False if no_cross_lists else None,
        )
        listing = read_day(settings, parse_date(date, latest=True), refresh=refresh)
    if as_json:
        for paper in listing.papers:
            typer.echo(json.dumps(paper_to_json(paper), ensure_ascii=False))
        return
    typer.echo(f"{listing.date}: {len(listing.papers)} papers from {listing.origin}")
    for paper in listing.papers:
        typer.echo(f"{paper.arxiv_id:<12} {paper.primary_category:<9} {paper.title_display}")
