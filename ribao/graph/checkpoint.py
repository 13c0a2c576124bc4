"""The SQLite checkpointer of runs: one thread per run id, our state types allow-listed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine, Sequence
from pathlib import Path
from typing import Any

import aiosqlite
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from ribao import schemas
from ribao.calls import LLMCall
from ribao.fulltext.document import PaperText, Section

# Only these classes may be rebuilt from a checkpoint (LangGraph warns about, and will block,
# unregistered types: a checkpoint database must not be a way to run arbitrary constructors).
STATE_TYPES: tuple[type, ...] = (
    schemas.Paper,
    schemas.Exclusion,
    schemas.MemoryFlag,
    schemas.Ranked,
    schemas.Pick,
    schemas.Shortlisted,
    schemas.RubricScores,
    schemas.Critique,
    schemas.CriticDecision,
    schemas.Summary,
    schemas.SourceRecord,
    schemas.Fallback,
    PaperText,
    Section,
    schemas.DeliveryRecord,
    LLMCall,
)


def serializer() -> JsonPlusSerializer:
    """Return the msgpack serializer restricted to LangGraph's safe types plus `STATE_TYPES`."""
    return JsonPlusSerializer(allowed_msgpack_modules=[(t.__module__, t.__name__) for t in STATE_TYPES])


class TaskWritesSaver(AsyncSqliteSaver):
    """The SQLite checkpointer, able to wait until a finished task's writes are committed (`saved`).

    LangGraph emits a task's result on the "tasks" stream as soon as it has *submitted* the task's
    writes to the checkpointer, before they are committed; a kill -9 in between loses the task
    although its result was shown. Waiting in `saved` before showing or recording a result closes
    that window.
    """

    def __init__(self, conn: aiosqlite.Connection, *, serde: JsonPlusSerializer) -> None:
        super().__init__(conn, serde=serde)
        self._in_flight: dict[str, list[asyncio.Event]] = {}

    def aput_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> Coroutine[Any, Any, None]:
        """Register the task's write as in flight now, and return the coroutine that commits it."""
        # Not `async def`: LangGraph calls this before it emits the task's result and awaits the
        # coroutine later, so the registration must happen in the call itself.
        committed = asyncio.Event()
        self._in_flight.setdefault(task_id, []).append(committed)
        return self._commit(config, writes, task_id, task_path, committed)

    async def _commit(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str,
        committed: asyncio.Event,
    ) -> None:
        """Commit one write of a task, then mark it settled (also when it fails: LangGraph raises that)."""
        try:
            await super().aput_writes(config, writes, task_id, task_path)
        finally:
            committed.set()
            events = self._in_flight.get(task_id, [])
            if committed in events:
                events.remove(committed)
            if not events:
                self._in_flight.pop(task_id, None)

    async def saved(self, task_id: str) -> None:
        """Wait until every write submitted for `task_id` is committed (or has failed)."""
        for committed in list(self._in_flight.get(task_id, [])):
            await committed.wait()


@contextlib.asynccontextmanager
async def open_checkpointer(path: Path) -> AsyncIterator[TaskWritesSaver]:
    """Open (creating) the checkpoint database at `path` for the duration of the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    async with aiosqlite.connect(str(path)) as conn:
        # The saver turns WAL on; with WAL, NORMAL loses nothing on a process crash (kill -9 included)
        # and at most the last steps on a power cut, as in the run log. FULL paid an fsync per step
        # and per finished task (~64 a run, ~5 ms each here) while the next step waited.
        await conn.execute("PRAGMA synchronous = NORMAL")
        yield TaskWritesSaver(conn, serde=serializer())
