"""Catch code that holds the event loop: asyncio debug mode's slow-callback reports during a coroutine.

    result, slow = run_watched(run_digest(...))      # slow: ["Executing <Task …> took 0.201 seconds", …]
    assert slow == []

In debug mode asyncio logs (logger ``asyncio``, WARNING) every callback or task step that runs longer
than `loop.slow_callback_duration`; a blocking call on the loop (a sync HTTP request, a SQLite
commit, a file hash) shows up as one such step.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

#: How long one loop step may take: past it a node is blocking the loop rather than awaiting.
SLOW_SECONDS = 0.05


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.slow: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Executing ") and " took " in message:
            self.slow.append(message)


def run_watched(coro: Coroutine[Any, Any, T], *, threshold: float = SLOW_SECONDS) -> tuple[T, list[str]]:
    """Run `coro` in a new debug-mode event loop (like `asyncio.run`); return its result and asyncio's
    report of each loop step that took longer than `threshold` seconds.

    What is alive before the run is frozen out of the cyclic collector, as `ribao run` does
    (`gc.freeze` in `graph.runner.execute`): a full collection of the imported stack is a pause of its
    own, not a node blocking the loop.
    """
    logger = logging.getLogger("asyncio")
    handler, level = _Collect(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    gc.collect()
    gc.freeze()
    try:
        with asyncio.Runner(debug=True) as runner:
            runner.get_loop().slow_callback_duration = threshold
            result = runner.run(coro)
    finally:
        gc.unfreeze()
        logger.removeHandler(handler)
        logger.setLevel(level)
    return result, handler.slow
