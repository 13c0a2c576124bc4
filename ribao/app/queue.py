"""The job queue of digests (procrastinate on the Postgres at `store.url`): what a job is, adding jobs.

One job writes one (profile, day) digest. Its `queueing_lock` keeps one such job waiting at a time
and its `lock` lets one worker at a time run it, so two workers never write the same digest. The
job carries its run id (= the LangGraph thread id): a job retried after its worker died resumes
that run from its last checkpoint instead of starting again. It also carries its `scope` (the day and
the batch of jobs queued together): the jobs of a scope pay each paper-level answer once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import procrastinate
from ulid import ULID

from ribao.app.write import reader_settings
from ribao.errors import ConfigError, ListingError, NoAnnouncement
from ribao.profiles.names import DEFAULT_PROFILE, check_profile
from ribao.runs.backend import CONNECT_TIMEOUT_S, check_reachable, is_postgres, libpq_url
from ribao.runs.db import RunLog
from ribao.settings import Settings
from ribao.sources import API_SOURCE
from ribao.sources.calendar import calendar_days
from ribao.sources.files import read_file

QUEUE = "digests"
TASK = "ribao.write_digest"
DAILY_CRON = "30 5 * * 1-5"  # 05:30 UTC Mon-Fri, as the cron example (ribao.delivery.schedule)
# One key for the advisory lock under which the queue's tables are created (two workers starting on
# a fresh database would both try).
SCHEMA_LOCK = 0x7269_6261_6F5F_7171  # "ribao_qq"


def queue_url(settings: Settings) -> str:
    """Return the queue's database (`store.url`); raises `ConfigError` when it is not Postgres."""
    url = settings.store.url
    if not is_postgres(url):
        raise ConfigError('workers need a Postgres database: set [store] url = "postgresql://…"')
    return libpq_url(str(url))


def check_store(settings: Settings) -> str:
    """Return the queue's database once it answers and its run log is one this ribao can write; raises
    `StoreUnreachable` or `RunLogError` (a database from a newer ribao) in one line, before any job is
    added or taken (a worker would otherwise fail each job it takes)."""
    url = queue_url(settings)
    check_reachable(url)
    RunLog.open(settings.home, url=url, secrets=()).close()
    return url


async def ensure_schema(app: procrastinate.App) -> None:
    """Create the queue's tables once (first worker or enqueue on a fresh database); nothing after."""
    connector: Any = app.connector
    async with connector.pool.connection() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        row = await (await conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")).fetchone()
        if not row[0]:
            await conn.execute(app.schema_manager.get_schema())


def lock_key(profile: str | None, day: dt.date) -> str:
    """Return the lock of one digest: its profile (or the default) and day."""
    return f"{profile or '-'}/{day.isoformat()}"


def check_profiles(settings: Settings, profiles: list[str] | None) -> list[str | None]:
    """Return the profiles to write (none given, or ``default``: None, the default profile), the names
    `ribao run --profile` knows (`check_profile`); raises `BadFlag` listing them for an unknown name."""
    names = [check_profile(settings, p) for p in profiles or [DEFAULT_PROFILE]]
    return list(dict.fromkeys(None if n == DEFAULT_PROFILE else n for n in names))


def digest_written(settings: Settings, day: dt.date) -> bool:
    """Return True when `day`'s digest is in the settings' output folder already."""
    return (Path(settings.out_dir) / f"{day.isoformat()}.md").exists()


def day_source(source: str | None, day: dt.date) -> str | None:
    """Return the listing of `day` in `source` when it is a folder of listings named by date
    (``2026-02-18.cs.jsonl``; None when it has none), else `source` itself (a file, ``arxiv`` or None:
    the settings'). A listing file is read now: raises `ListingError` when it is malformed or states
    another day, so that no job is queued only to fail when a worker takes it."""
    if source is None or source == API_SOURCE:
        return source
    path = Path(source)
    folder = path.is_dir()
    if folder:
        found = sorted(path.glob(f"{day.isoformat()}*.jsonl")) or sorted(path.glob(f"{day.isoformat()}*"))
        if not found:
            return None
        path = found[0].resolve()
    stated = read_file(path, []).announced
    if stated is not None and stated != day:
        raise ListingError(
            f"{path} is named for {day} but is the listing of {stated}; rename or remove it"
            if folder
            else f"{source} is the listing of {stated}, not of {day}; for several days give a folder of "
            "listings named by date"
        )
    return str(path)


Outcome = Literal["queued", "already queued", "written", "no listing"]


@dataclass(frozen=True)
class Enqueued:
    """What adding one (profile, day) job did; `job_id` when it was queued."""

    day: dt.date
    profile: str | None
    outcome: Outcome
    job_id: int | None = None


async def enqueue(
    app: procrastinate.App,
    settings: Settings,
    days: list[dt.date],
    profiles: list[str | None],
    *,
    source: str | None = None,
    force: bool = False,
) -> list[Enqueued]:
    """Add one job per (profile, day): skipped when the digest is written (unless `force`), when such a
    job waits already, or when a folder `source` has no listing of that day. The jobs of one day added
    by one call share paper-level work: their `scope` is the day and this call's batch id."""
    from procrastinate.exceptions import AlreadyEnqueued

    task = app.tasks[TASK]
    # Every day's listing is found and checked before the first job is added (file reads: off the loop).
    listings = await asyncio.to_thread(lambda: {day: day_source(source, day) for day in days})
    batch = str(ULID())
    done: list[Enqueued] = []
    for profile in profiles:
        for day in days:
            listing = listings[day]
            if source is not None and listing is None:
                done.append(Enqueued(day, profile, "no listing"))
                continue
            if not force and digest_written(reader_settings(settings, profile), day):
                done.append(Enqueued(day, profile, "written"))
                continue
            key = lock_key(profile, day)
            try:
                job_id = await task.configure(lock=key, queueing_lock=key).defer_async(
                    date=day.isoformat(), profile=profile, source=listing, force=force, run_id=str(ULID()),
                    scope=f"{day.isoformat()}/{batch}",
                )  # fmt: skip
            except AlreadyEnqueued:
                done.append(Enqueued(day, profile, "already queued"))
                continue
            done.append(Enqueued(day, profile, "queued", job_id))
    return done


def listing_days(settings: Settings, start: dt.date, end: dt.date, now: dt.datetime) -> list[dt.date]:
    """Return the calendar's listing days from `start` to `end` (weekends, holidays, future days out);
    raises `NoAnnouncement` when there is none."""
    days = calendar_days(start, end, now=now, holidays=settings.holidays)
    listing = [d.date for d in days if d.status == "listing"]
    if not listing:  # a weekend, holidays or days to come: said, not an empty success
        raise NoAnnouncement(
            f"no listing day from {start} to {end} (weekends, holidays and days not announced yet)"
        )
    return listing


@dataclass(frozen=True)
class QueuedJob:
    """One digest job still on the queue: waiting (todo), running (doing) or failed."""

    job_id: int
    status: str
    day: str
    profile: str | None
    attempts: int
    run_id: str


def queued_jobs(settings: Settings) -> list[QueuedJob]:
    """Return the digest jobs waiting, running or failed on the queue at `store.url`, oldest first
    (none when no store is set or the queue was never used); `ribao runs list`."""
    if settings.store.url is None:
        return []
    url = queue_url(settings)
    check_reachable(url)
    import psycopg

    with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S) as conn:
        if not conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()[0]:  # type: ignore[index]
            return []
        rows = conn.execute(
            "SELECT id, status::text, args, attempts FROM procrastinate_jobs"
            " WHERE task_name = %s AND status IN ('todo', 'doing', 'failed') ORDER BY id",
            (TASK,),
        ).fetchall()
    return [
        QueuedJob(r[0], r[1], r[2].get("date", ""), r[2].get("profile"), r[3], r[2].get("run_id", ""))
        for r in rows
    ]
