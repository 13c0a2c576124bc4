"""What a worker runs: the digest job (write or resume one (profile, day) run), the daily job, and the
worker loop that first hands the jobs of dead workers back to the queue."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import procrastinate

from ribao.app.feedback import open_feedback
from ribao.app.queue import (
    DAILY_CRON,
    QUEUE,
    SCHEMA_LOCK,
    TASK,
    Enqueued,
    check_profiles,
    check_store,
    digest_written,
    enqueue,
    ensure_schema,
    queue_url,
)
from ribao.app.worker_stop import run_until_stopped
from ribao.app.write import RunResult, open_run, reader_settings, resume_run, write_day
from ribao.errors import LeaseLost, RunNotFound
from ribao.runs.backend import CONNECT_TIMEOUT_S, check_reachable
from ribao.runs.lease import WATCH_SECONDS, hold, orphaned
from ribao.runs.trace import Tracer
from ribao.settings import Settings
from ribao.settings_providers import ModelConfig
from ribao.sources.calendar import latest_announcement_day

log = logging.getLogger("ribao.worker")

# A job is only judged orphaned this long after it started: its worker takes the lease right after
# fetching it, and a job caught in between must not be handed to a second worker.
LEASE_GRACE_S = 5
REAP_EVERY_S = 2  # how often a waiting worker looks for jobs of dead workers (one query per look)
# Jobs a worker runs at once by default: a job waits on the provider most of the time, but each one
# holds its memory and models open, so at most this many even when the provider allows more.
MAX_DEFAULT_JOBS = 8


async def write_digest_job(
    context: procrastinate.JobContext,
    *,
    date: str,
    run_id: str,
    profile: str | None = None,
    source: str | None = None,
    force: bool = False,
    scope: str | None = None,
) -> str:
    """Write the digest of (`profile`, `date`) as run `run_id`, or resume that run from its checkpoint
    (a retried job whose worker died), sharing paper-level work with the jobs of `scope`; holds the
    job's lease and stops when the database is lost."""
    settings: Settings = context.additional_context["settings"]
    day = dt.date.fromisoformat(date)
    if source is not None:
        settings = settings.model_copy(update={"source": source})
    if not force and await asyncio.to_thread(lambda: digest_written(reader_settings(settings, profile), day)):
        return f"{date} {profile or 'default'}: written already"
    assert context.job.id is not None
    async with hold(queue_url(settings), context.job.id) as lost:
        work = asyncio.create_task(write_or_resume(settings, day, run_id, profile, scope))
        cut = asyncio.create_task(lost.wait())
        await asyncio.wait({work, cut}, return_when=asyncio.FIRST_COMPLETED)
        if work.done() and not work.cancelled() and work.exception() is not None and not lost.is_set():
            # A run that failed on the dropped connection itself can end before the watch's next look:
            # let it look once more, so a lost database is retried (resumed), not reported as failed.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), 2 * WATCH_SECONDS)
        cut.cancel()
        if not work.done() or lost.is_set():
            work.cancel()
            with contextlib.suppress(BaseException):
                await work
            raise LeaseLost(f"lost the database while writing {date}; the job stays unfinished")
        result = work.result()
        return f"{date} run {run_id}: {result.digest_path}"


async def write_or_resume(
    settings: Settings, day: dt.date, run_id: str, profile: str | None = None, scope: str | None = None
) -> RunResult:
    """Resume run `run_id` when it has a checkpoint, else start it, as `ribao run --date DAY --profile
    PROFILE` would (`open_run`: the reader's folder, memory, push channels, relevance, run label), sharing
    paper-level work with the runs of `scope` (None: none)."""
    stack = contextlib.ExitStack()
    # open_run checks the run, opens the memory and the models (file and network I/O): off the event loop.
    opened = open_run(settings, day, profile=profile, scope=scope)
    services = await asyncio.to_thread(stack.enter_context, opened)
    try:
        tracer = Tracer(quiet=True)
        try:
            result = await resume_run(services, run_id, date=day, tracer=tracer)
        except RunNotFound:
            result = await write_day(services, day, tracer=tracer, run_id=run_id)
    finally:
        await asyncio.to_thread(stack.close)
    return result


async def daily_job(context: procrastinate.JobContext, timestamp: int) -> str:
    """Queue the latest announcement day for every profile (the default one when none is configured)."""
    settings: Settings = context.additional_context["settings"]
    now = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
    day = latest_announcement_day(now, settings.holidays)
    profiles: list[str | None] = list(settings.profiles) or [None]
    added = await enqueue(context.app, settings, [day], profiles)
    return f"{day}: " + ", ".join(f"{a.profile or 'default'} {a.outcome}" for a in added)


async def requeue_orphans(app: procrastinate.App, url: str) -> list[int]:
    """Hand back to the queue every running job whose worker is gone (its lease is free); return their ids.

    A job that started less than `LEASE_GRACE_S` ago is looked at again once that has passed."""
    ids = await orphaned(url, await _running(app))
    if not ids:
        return []
    young = set(ids) - set(await _running(app, older_than=LEASE_GRACE_S))
    if young:
        await asyncio.sleep(LEASE_GRACE_S)
        still = set(await orphaned(url, await _running(app, older_than=LEASE_GRACE_S)))
        ids = [i for i in ids if i in still]
    for job_id in ids:
        log.warning("job %s: its worker is gone; queued again to resume from its checkpoint", job_id)
        await app.job_manager.retry_job_by_id_async(job_id, retry_at=dt.datetime.now(dt.UTC))
    return ids


async def _running(app: procrastinate.App, *, older_than: float = 0) -> list[int]:
    """Return the ids of the digest jobs marked running that started at least `older_than` seconds ago."""
    connector: Any = app.connector
    async with connector.pool.connection() as conn:
        cur = await conn.execute(
            "SELECT j.id FROM procrastinate_jobs j WHERE j.status = 'doing' AND j.queue_name = %s"
            " AND coalesce((SELECT max(e.at) FROM procrastinate_events e WHERE e.job_id = j.id"
            "      AND e.type = 'started'), now()) <= now() - make_interval(secs => %s)",
            (QUEUE, older_than),
        )
        return [row[0] for row in await cur.fetchall()]


async def _waiting(app: procrastinate.App) -> bool:
    """Return True when a job of the digest queue waits and may start now."""
    connector: Any = app.connector
    async with connector.pool.connection() as conn:
        cur = await conn.execute(
            "SELECT EXISTS (SELECT 1 FROM procrastinate_jobs WHERE status = 'todo' AND queue_name = %s"
            " AND (scheduled_at IS NULL OR scheduled_at <= now()))",
            (QUEUE,),
        )
        row = await cur.fetchone()
        return bool(row[0])


async def _reap(app: procrastinate.App, url: str) -> None:
    """Requeue the jobs of dead workers every `REAP_EVERY_S` seconds (a waiting worker's side task)."""
    while True:
        await asyncio.sleep(REAP_EVERY_S)
        with contextlib.suppress(Exception):
            await requeue_orphans(app, url)


async def prepare_feedback(app: procrastinate.App, settings: Settings) -> None:
    """Create the feedback store's tables before any job runs, one worker at a time: the first jobs of
    workers started at once each created them and all but one failed (a unique violation in pg_type)."""
    connector: Any = app.connector
    async with connector.pool.connection() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        await asyncio.to_thread(lambda: open_feedback(settings).close())


def default_concurrency(settings: Settings) -> int:
    """Return how many jobs a worker runs at once: the provider's max_concurrency, at most 8 (1 for the
    local model, which serves one request at a time)."""
    if settings.llm == "local":
        return 1
    allowed = settings.provider(settings.llm).max_concurrency
    if allowed is None:
        allowed = ModelConfig.model_fields["max_concurrency"].default
    return max(1, min(MAX_DEFAULT_JOBS, allowed))


async def work(settings: Settings, *, until_empty: bool = False, concurrency: int = 1) -> None:
    """Run a worker on the digest queue: until stopped (Ctrl-C, SIGTERM), or with `until_empty` until
    no job waits. Jobs left running by dead workers are queued again first, and then every
    `REAP_EVERY_S` seconds while it waits."""
    url = await asyncio.to_thread(check_store, settings)
    app = queue_app(url)
    async with app.open_async():
        await ensure_schema(app)
        await prepare_feedback(app, settings)
        await requeue_orphans(app, url)
        reaper = None if until_empty else asyncio.create_task(_reap(app, url))
        try:
            while True:
                stopped = await run_until_stopped(
                    app, settings, until_empty=until_empty, concurrency=concurrency
                )
                # With until_empty procrastinate stops fetching at the first look that finds no job, even
                # while other jobs of this worker still run: a job queued again meanwhile (a retry after
                # a lost database) would be left waiting. Look again once they have all ended.
                if stopped or not until_empty or not await _waiting(app):
                    break
        finally:
            if reaper is not None:
                reaper.cancel()


def queue_app(url: str) -> procrastinate.App:
    """Return the procrastinate app on the Postgres `url`, with the digest task and the daily schedule."""
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=url, kwargs={"connect_timeout": CONNECT_TIMEOUT_S})
    )
    # A job whose worker lost the database is tried again (resuming its run), up to twice.
    retry = procrastinate.RetryStrategy(max_attempts=2, retry_exceptions={LeaseLost})
    app.task(name=TASK, queue=QUEUE, pass_context=True, retry=retry)(write_digest_job)
    app.periodic(cron=DAILY_CRON, periodic_id="daily")(
        app.task(name="ribao.daily", queue=QUEUE, pass_context=True)(daily_job)
    )
    return app


def add_jobs(
    settings: Settings,
    days: list[dt.date],
    profiles: list[str] | None = None,
    *,
    source: str | None = None,
    force: bool = False,
) -> list[Enqueued]:
    """Queue the digests of `days` for `profiles` (checked against `settings.profiles`) on the queue
    at `store.url`: `ribao enqueue run` and `ribao backfill`. Raises `BadFlag` for an unknown profile
    and `StoreUnreachable` when the database cannot be reached, before anything is queued."""
    names = check_profiles(settings, profiles)
    url = check_store(settings)

    async def go() -> list[Enqueued]:
        app = queue_app(url)
        async with app.open_async():
            await ensure_schema(app)
            return await enqueue(app, settings, days, names, source=source, force=force)

    return asyncio.run(go())


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
