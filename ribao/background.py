"""Work a run leaves running in the background (a slot given back, a paid answer stored after its run
stopped): kept referenced until it ends, and a failure said in one log line, not asyncio's
"Task exception was never retrieved" with a traceback (seen when Postgres restarted mid-job)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable

log = logging.getLogger("ribao")


def keep(work: Awaitable[None], what: str, refs: Iterable[set[asyncio.Future[None]]]) -> asyncio.Future[None]:
    """Run `work` in the background, in each set of `refs` until it ends; log `what` and the error when
    it fails (its caller has moved on: nobody else would see it)."""
    task = asyncio.ensure_future(work)
    for held in refs:
        held.add(task)
        task.add_done_callback(held.discard)
    task.add_done_callback(lambda done: _said(done, what))
    return task


def _said(done: asyncio.Future[None], what: str) -> None:
    if done.cancelled():
        return
    exc = done.exception()  # retrieved: asyncio no longer reports it at garbage collection
    if exc is not None:
        log.warning("%s failed: %s", what, " ".join(str(exc).split())[:300] or type(exc).__name__)
