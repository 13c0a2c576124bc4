"""Catch code that holds the event loop: asyncio debug mode's slow-callback reports during a coroutine.

    result, slow = run_watched(write_day(...))   # slow: ["Executing <Task …> took 0.201 seconds …", …]
    assert slow == []

In debug mode asyncio logs (logger ``asyncio``, WARNING) every callback or task step that runs longer
than `loop.slow_callback_duration`; a blocking call on the loop (a sync HTTP request, a SQLite commit,
a file hash) shows up as one such step. asyncio times a step by the wall clock, so on a loaded machine
a step the OS left waiting for a CPU looks slow too (measured here: a 0.15 s computation took 0.5 s
at a load of 15 on 2 cores). Each step's wait in the run queue (Linux schedstat) is therefore taken
off before it is judged; where schedstat is missing the wall time stands.

The coroutine runs as the task named `MAIN` (for a run: the loop that streams, traces and records),
so a test can tell its steps from the graph's node tasks in the report.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

#: The name of the task `run_watched` runs its coroutine as.
MAIN = "watched-main"

#: How long one loop step may hold the loop: past it a node is blocking rather than awaiting.
SLOW_SECONDS = 0.05

_TOOK = re.compile(r" took (\d+(?:\.\d+)?) seconds$")


def _queued_seconds() -> float:
    """Return the seconds the calling thread has waited for a CPU so far (0.0 without schedstat)."""
    try:
        with open("/proc/thread-self/schedstat", encoding="ascii") as fh:
            return int(fh.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


class _Watch(logging.Handler):
    """Collect asyncio's slow-step reports whose time, less the step's run-queue wait, is past `threshold`."""

    def __init__(self, threshold: float) -> None:
        super().__init__(logging.WARNING)
        self.threshold = threshold
        self.slow: list[str] = []
        self.local = threading.local()  # the last step's run-queue wait, per loop thread

    def timed(self, run: Callable[[asyncio.Handle], None]) -> Callable[[asyncio.Handle], None]:
        """Wrap `Handle._run` so each step records how long it waited for a CPU."""

        def step(handle: asyncio.Handle) -> None:
            before = _queued_seconds()
            try:
                run(handle)
            finally:
                self.local.queued = _queued_seconds() - before

        return step

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        took = _TOOK.search(message) if message.startswith("Executing ") else None
        if took is None:
            return
        queued = getattr(self.local, "queued", 0.0)
        held = float(took.group(1)) - queued
        if held >= self.threshold:
            self.slow.append(f"{message} (held the loop {held:.3f} s; {queued:.3f} s waiting for a CPU)")


def run_watched(coro: Coroutine[Any, Any, T], *, threshold: float = SLOW_SECONDS) -> tuple[T, list[str]]:
    """Run `coro` in a new debug-mode event loop (like `asyncio.run`); return its result and asyncio's
    report of each loop step that held the loop longer than `threshold` seconds.

    What is alive before the run is frozen out of the cyclic collector, as `ribao run` does
    (`end_startup` before the graph starts): a full collection of the imported stack is a pause of its
    own, not a node blocking the loop.
    """
    logger = logging.getLogger("asyncio")
    watch, level, run = _Watch(threshold), logger.level, asyncio.Handle._run
    logger.addHandler(watch)
    logger.setLevel(logging.WARNING)
    asyncio.Handle._run = watch.timed(run)  # type: ignore[method-assign, assignment]

    async def main() -> T:
        task = asyncio.current_task()
        assert task is not None
        task.set_name(MAIN)
        return await coro

    gc.collect()
    gc.freeze()
    try:
        with asyncio.Runner(debug=True) as runner:
            runner.get_loop().slow_callback_duration = threshold
            result = runner.run(main())
    finally:
        gc.unfreeze()
        asyncio.Handle._run = run  # type: ignore[method-assign]
        logger.removeHandler(watch)
        logger.setLevel(level)
    return result, watch.slow


class LoopProbe:
    """Tell, from a loopback server's handler thread, whether the event loop is free during a request.

        probe = LoopProbe()
        server.on_request = probe.check        # called by the handler before it answers
        result = asyncio.run(probe.watch(coro))
        assert probe.checked and probe.held == []

    `check` asks the loop to run a callback and waits for it. A loop blocked on this very request (a
    synchronous HTTP call on the loop) cannot run it before the answer, so the wait ends at `GUARD`
    seconds and the request counts as held; a free loop runs it sooner, however busy the machine: no
    wall-time threshold, unlike `run_watched`, whose steps a loaded machine (GIL waits) makes look slow.
    """

    #: Seconds a request waits for the loop: a guard only, under the clients' own 30 s timeouts.
    GUARD = 20.0

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.checked = 0
        self.held: list[str] = []

    async def watch(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await `coro` on the running loop, which the checks then probe."""
        self.loop = asyncio.get_running_loop()
        try:
            return await coro
        finally:
            self.loop = None

    def check(self, what: str) -> None:
        """Record `what` (a request) as held when the loop runs nothing while it waits for its answer."""
        loop, ran = self.loop, threading.Event()
        if loop is None:
            return
        try:
            loop.call_soon_threadsafe(ran.set)
        except RuntimeError:  # the loop has closed: the request came after the run
            return
        self.checked += 1
        # Once one request was held the test fails anyway: later ones are not waited for.
        if not ran.wait(0 if self.held else self.GUARD):
            self.held.append(what)
