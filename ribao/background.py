"""Work a run leaves running in the background (a slot given back, a paid answer stored after its run
stopped): kept referenced until it ends, and a failure said in one log line, not asyncio's
"Task exception was never retrieved" with a traceback (seen when Postgres restarted mid-job)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Iterable

log = logging.getLogger("ribao")

#: Seconds within which the same failure of the same work is said once: a run cut off from its database
#: fails a dozen slot give-backs at once, each with the same reason.
REPEAT_S = 60.0
_said_at: dict[tuple[str, str], float] = {}


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
    if exc is None:
        return
    reason = " ".join(str(exc).split())[:300] or type(exc).__name__
    now, last = time.monotonic(), _said_at.get((what, reason))
    if last is not None and now - last < REPEAT_S:
        return
    for old in [key for key, at in _said_at.items() if now - at >= REPEAT_S]:
        del _said_at[old]  # a worker runs for weeks: remember only the last minute
    _said_at[(what, reason)] = now
    log.warning("%s failed: %s", what, reason)
