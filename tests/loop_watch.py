"""Watch an event loop for callbacks that hold it: asyncio's debug mode reports every callback that
runs longer than `slow_callback_duration` as an ``Executing … took N seconds`` warning.

The coroutine given runs as the task named `MAIN` (the run loop: streaming, tracing, recording);
the graph's node tasks have their own names, so a test can tell the two apart.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

#: The name of the task `run_watched` runs its coroutine as.
MAIN = "watched-main"

_TOOK = re.compile(r"took (\d+\.\d+) seconds")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.slow: list[tuple[float, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        found = _TOOK.search(message)
        if message.startswith("Executing") and found:
            self.slow.append((float(found.group(1)), message))


def run_watched(coro: Coroutine[Any, Any, T], *, slower_than: float) -> tuple[T, list[tuple[float, str]]]:
    """Run `coro` in a new loop in debug mode; return its result and each callback that held the loop
    longer than `slower_than` seconds, as (seconds, asyncio's description of it)."""
    handler = _Collect()
    logger = logging.getLogger("asyncio")
    logger.addHandler(handler)

    async def watched() -> T:
        asyncio.get_running_loop().slow_callback_duration = slower_than
        task = asyncio.current_task()
        assert task is not None
        task.set_name(MAIN)
        return await coro

    try:
        return asyncio.run(watched(), debug=True), handler.slow
    finally:
        logger.removeHandler(handler)
