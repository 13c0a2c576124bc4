"""How a worker stops: a signal (Ctrl-C, SIGTERM) lets the running job finish; the worker stopping by
itself is an error. procrastinate stops a waiting worker whose database went away (a restart, a dropped
connection) as if it had been asked to, which would end `ribao worker` with status 0 and no word."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import procrastinate
from procrastinate.exceptions import ConnectorException

from ribao.app.queue import QUEUE
from ribao.errors import StoreUnreachable
from ribao.runs.backend import shown
from ribao.settings import Settings

SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def run_until_stopped(
    app: procrastinate.App, settings: Settings, *, until_empty: bool, concurrency: int = 1
) -> bool:
    """Run the worker on the digest queue until a signal (the running job finishes first) or, with
    `until_empty`, until no job waits; return True when a signal stopped it. Raises `StoreUnreachable` when it
    stops by itself: its jobs stay on the queue for the next worker (a supervisor restarts it)."""
    loop = asyncio.get_running_loop()
    asked = asyncio.Event()
    worker = asyncio.create_task(
        app.run_worker_async(
            queues=[QUEUE],
            wait=not until_empty,
            concurrency=concurrency,
            additional_context={"settings": settings},
            install_signal_handlers=False,
        )
    )

    def stop() -> None:
        for sig in SIGNALS:  # a second signal meets the default handlers again
            loop.remove_signal_handler(sig)
        asked.set()
        worker.cancel()  # procrastinate lets the running job finish, then ends the worker

    for sig in SIGNALS:
        loop.add_signal_handler(sig, stop)
    lost = StoreUnreachable(
        f"lost the database {shown(str(settings.store.url))}; the worker stopped and its jobs stay "
        "queued for the next worker"
    )
    try:
        await worker
    except asyncio.CancelledError:
        if not asked.is_set():
            raise
    except ConnectorException as exc:  # its last words to a database that is gone
        raise lost from exc
    finally:
        for sig in SIGNALS:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
    if not until_empty and not asked.is_set():
        raise lost
    return asked.is_set()
