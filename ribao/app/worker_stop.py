"""How a worker stops. A signal (Ctrl-C, SIGTERM) stops it at once: each running job's run is cancelled
(recorded `interrupted`) and the job is queued again, to resume from its last checkpoint; a supervisor's
stop timeout would otherwise kill a job that takes minutes anyway. The worker stopping by itself is an
error: procrastinate stops a waiting worker whose database went away (a restart, a dropped connection)
as if it had been asked to, which would end `ribao worker` with status 0 and no word."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import procrastinate
from procrastinate.exceptions import ConnectorException

from ribao.app.queue import QUEUE
from ribao.errors import LeaseLost, RibaoError, StoreUnreachable, WorkerStopped
from ribao.runs.backend import shown
from ribao.settings import Settings

log = logging.getLogger("ribao.worker")

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class Stopped:
    """A worker stopped by a signal: which one (empty until then), the ids of the jobs it queued again,
    and the tasks of the jobs running (to cancel them)."""

    signal: str = ""
    requeued: list[int] = field(default_factory=list)
    running: set[asyncio.Task[Any]] = field(default_factory=set)

    def line(self) -> str:
        """Return what the worker says as it ends."""
        if not self.requeued:
            return f"ribao: worker stopped ({self.signal})"
        ids = ", ".join(map(str, self.requeued))
        said = f"ribao: worker stopped ({self.signal}); running job(s) {ids} queued again"
        return f"{said}, to resume from their checkpoint"


class QuietStops(logging.Filter):
    """Turn the traceback procrastinate logs with a job that failed on one of ribao's errors (a stop
    that queued it again, a lost database, a provider down: each says what happened in its message)
    into that message on the same line; a traceback stays for anything else (a bug)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, RibaoError):
            record.msg, record.args = f"{record.getMessage()}: {exc}", ()
            record.exc_info = None
            record.exc_text = None
        return True


class DigestRetry(procrastinate.BaseRetryStrategy):
    """Queue a job again at once when its worker was stopped (however often that happens), and up to
    twice when its worker lost the database; any other failure is final."""

    lost = procrastinate.RetryStrategy(max_attempts=2, retry_exceptions={LeaseLost})

    def get_retry_decision(
        self, *, exception: BaseException, job: procrastinate.jobs.Job
    ) -> procrastinate.RetryDecision | None:
        if isinstance(exception, WorkerStopped):
            return procrastinate.RetryDecision(retry_at=dt.datetime.now(dt.UTC))
        return self.lost.get_retry_decision(exception=exception, job=job)


@contextlib.asynccontextmanager
async def requeued_on_stop(context: procrastinate.JobContext, what: str) -> AsyncIterator[None]:
    """Let a signal to the worker cancel the job in the block, and turn that into `WorkerStopped`
    (queued again); any other cancellation (a user's abort) stays one."""
    stopped: Stopped = context.additional_context["stopped"]
    task = asyncio.current_task()
    assert task is not None
    stopped.running.add(task)
    try:
        yield
    except asyncio.CancelledError:
        if not stopped.signal:
            raise
        assert context.job.id is not None
        stopped.requeued.append(context.job.id)
        log.warning("job %s (%s): stopped with the worker; queued again", context.job.id, what)
        raise WorkerStopped(f"the worker stopped while writing {what}; the job is queued again") from None
    finally:
        stopped.running.discard(task)


async def run_until_stopped(
    app: procrastinate.App, settings: Settings, *, until_empty: bool, concurrency: int = 1
) -> Stopped | None:
    """Run the worker on the digest queue until a signal or, with `until_empty`, until no job waits;
    return how a signal stopped it (None: no signal). Raises `StoreUnreachable` when it stops by
    itself: its jobs stay on the queue for the next worker (a supervisor restarts it)."""
    loop = asyncio.get_running_loop()
    stopped = Stopped()  # each job's context gets a shallow copy of additional_context: this same object
    worker = asyncio.create_task(
        app.run_worker_async(
            queues=[QUEUE],
            wait=not until_empty,
            concurrency=concurrency,
            additional_context={"settings": settings, "stopped": stopped},
            install_signal_handlers=False,
        )
    )

    def stop(sig: signal.Signals) -> None:
        if stopped.signal:  # already stopping (quickly): a second Ctrl-C changes nothing
            return
        stopped.signal = sig.name
        worker.cancel()  # procrastinate takes no further job and waits for those running: end them now
        for job in list(stopped.running):
            job.cancel()

    for sig in SIGNALS:
        loop.add_signal_handler(sig, stop, sig)
    lost = StoreUnreachable(
        f"lost the database {shown(str(settings.store.url))}; the worker stopped and its jobs stay "
        "queued for the next worker"
    )
    try:
        await worker
    except asyncio.CancelledError:
        if not stopped.signal:
            raise
    except ConnectorException as exc:  # its last words to a database that is gone
        raise lost from exc
    finally:
        for sig in SIGNALS:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
    if not until_empty and not stopped.signal:
        raise lost
    return stopped if stopped.signal else None
