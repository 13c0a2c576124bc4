"""`ribao worker`, `ribao enqueue run` and `ribao backfill`: digests written by workers from the queue."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ribao.commands import cli_errors, command_group, parse_date

if TYPE_CHECKING:
    from ribao.app.queue import Enqueued

enqueue_app = command_group(help="Add jobs to the queue at [store] url.", no_args_is_help=True)

ProfileOpt = Annotated[
    list[str] | None,
    typer.Option("--profile", metavar="NAME", help="A [profiles.NAME] (repeatable) [default: the default]"),
]
SourceOpt = Annotated[
    str | None,
    typer.Option(help="A listing file, or a folder of listings named by date (2026-02-18.cs.jsonl)"),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Write days whose digest is written already")]


def worker(
    until_empty: Annotated[
        bool, typer.Option("--until-empty", help="Stop once no job waits (default: run until stopped)")
    ] = False,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            min=1,
            metavar="N",
            help="Jobs run at once [default: the provider's max_concurrency, at most 8]",
        ),
    ] = None,
) -> None:
    """Write the digests queued at [store] url, several jobs at once, until stopped (Ctrl-C, SIGTERM).

    Jobs left running by a worker that died are queued again and resume from their last checkpoint;
    the daily job (05:30 UTC Mon-Fri) queues the latest announcement day for every profile."""
    import asyncio
    import logging

    from ribao.app.jobs import default_concurrency, work
    from ribao.app.worker_stop import QuietStops
    from ribao.settings import load_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(QuietStops())
    # One line per model request would grow the log with the calls, not the jobs (a reader that drains
    # the log slower than that, e.g. an unread pipe, stalls the worker on its next write).
    for name in ("httpx", "httpx2", "httpcore", "httpcore2"):
        logging.getLogger(name).setLevel(logging.WARNING)
    with cli_errors("ribao: worker stopped"):
        settings = load_settings()
        jobs = concurrency or default_concurrency(settings)
        stopped = asyncio.run(work(settings, until_empty=until_empty, concurrency=jobs))
    if stopped is not None:
        typer.echo(stopped.line(), err=True)


#: More listing days without a file than this are said in one line per profile (a year's backfill from
#: a folder of a few days would print hundreds of "no listing" lines around the few queued).
MISSING_SHOWN = 5


def _report(added: list[Enqueued], source: str | None) -> None:
    missing: dict[str, list[dt.date]] = {}
    for a in added:
        if a.outcome == "no listing":
            missing.setdefault(a.profile or "default", []).append(a.day)
    many = {name for name, days in missing.items() if len(days) > MISSING_SHOWN}
    for a in added:
        name = a.profile or "default"
        if a.outcome == "no listing" and name in many:
            continue
        job = f" (job {a.job_id})" if a.job_id is not None else ""
        typer.echo(f"{a.day} {name}: {a.outcome}{job}")
    for name in sorted(many):
        days = missing[name]
        typer.echo(
            f"{name}: {len(days)} listing days from {days[0]} to {days[-1]} have no listing in {source}:"
            " not queued"
        )


def _check_source(source: str | None) -> None:
    """Raise `BadFlag` (exit status 2) for a --source path that does not exist."""
    from ribao.errors import BadFlag

    if source not in (None, "arxiv") and not Path(str(source)).exists():
        raise BadFlag(f"--source {source}: no such file or folder")


def _queue(days: list[dt.date], profile: list[str] | None, source: str | None, force: bool) -> None:
    from ribao.app.jobs import add_jobs
    from ribao.settings import load_settings

    with cli_errors():
        _check_source(source)
        _report(add_jobs(load_settings(), days, profile, source=source, force=force), source)


@enqueue_app.command("run")
def enqueue_run(
    date: Annotated[str, typer.Option("--date", help="Announcement day YYYY-MM-DD")],
    profile: ProfileOpt = None,
    source: SourceOpt = None,
    force: ForceOpt = False,
) -> None:
    """Queue one day's digest (for each --profile); a day already written is skipped unless --force."""
    day = parse_date(date)
    _queue([day], profile, source, force)


def backfill(
    start: Annotated[str, typer.Option("--from", help="First date YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="Last date YYYY-MM-DD")],
    profile: ProfileOpt = None,
    source: SourceOpt = None,
    force: ForceOpt = False,
) -> None:
    """Queue the digest of every listing day from --from to --to (weekends, holidays and future days
    left out); days already written are skipped unless --force."""
    from ribao.app.queue import listing_days
    from ribao.settings import load_settings

    first, last = parse_date(start, flag="--from"), parse_date(end, flag="--to")
    if last < first:
        raise typer.BadParameter(f"--to {last} is before --from {first}", param_hint="--to")
    with cli_errors():
        _check_source(source)
        days = listing_days(load_settings(), first, last, dt.datetime.now(dt.UTC))
    _queue(days, profile, source, force)
