"""The checkpointer of runs (SQLite in the home, or Postgres at `store.url`): one thread per run id,
our state types allow-listed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine, Sequence
from pathlib import Path
from typing import Any

import aiosqlite
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
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


class TaskWrites:
    """A checkpointer mixin able to wait until a finished task's writes are committed (`saved`).

    LangGraph emits a task's result on the "tasks" stream as soon as it has *submitted* the task's
    writes to the checkpointer, before they are committed; a kill -9 in between loses the task
    although its result was shown. Waiting in `saved` before showing or recording a result closes
    that window.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
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
            await super().aput_writes(config, writes, task_id, task_path)  # type: ignore[misc]
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


class TaskWritesSaver(TaskWrites, AsyncSqliteSaver):
    """The SQLite checkpointer with `TaskWrites.saved`."""


class PostgresTaskWritesSaver(TaskWrites, AsyncPostgresSaver):
    """The Postgres checkpointer (langgraph-checkpoint-postgres) with `TaskWrites.saved`."""


# One key for the advisory lock under which the saver's tables are set up: its `setup()` run by two
# processes at once on a fresh database collide (both create the same tables).
SETUP_LOCK = 0x7269_6261_6F5F_636B  # "ribao_ck"


async def setup_postgres(saver: AsyncPostgresSaver) -> None:
    """Create or migrate the Postgres saver's tables, one process at a time; nothing when up to date."""
    conn: Any = saver.conn
    while not await _saver_current(conn, len(saver.MIGRATIONS)):
        # Polled, not waited for: a waiting lock call is an open transaction, and the saver's
        # CREATE INDEX CONCURRENTLY waits for every open transaction, the waiter's too (a deadlock).
        row = await (await conn.execute("SELECT pg_try_advisory_lock(%s) AS got", (SETUP_LOCK,))).fetchone()
        if not row["got"]:
            await asyncio.sleep(0.05)
            continue
        try:
            await saver.setup()
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK,))


async def _saver_current(conn: Any, migrations: int) -> bool:
    """Return True when the saver's tables have all `migrations` applied."""
    row = await (
        await conn.execute("SELECT to_regclass('checkpoint_migrations') IS NOT NULL AS present")
    ).fetchone()
    if not row["present"]:
        return False
    row = await (await conn.execute("SELECT max(v) AS v FROM checkpoint_migrations")).fetchone()
    return row["v"] is not None and row["v"] >= migrations - 1


@contextlib.asynccontextmanager
async def open_checkpointer(target: Path | str) -> AsyncIterator[TaskWritesSaver | PostgresTaskWritesSaver]:
    """Open the checkpoints for the duration of the block: a SQLite file (created) when `target` is a
    path, the Postgres database (tables set up once) when it is a ``postgresql://`` URL."""
    if isinstance(target, str):
        async with _open_postgres(target) as saver:
            yield saver
        return
    await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
    async with aiosqlite.connect(str(target), timeout=30) as conn:
        # The saver turns WAL on; with WAL, NORMAL loses nothing on a process crash (kill -9 included)
        # and at most the last steps on a power cut, as in the run log. FULL paid an fsync per step
        # and per finished task (~64 a run, ~5 ms each here) while the next step waited.
        await conn.execute("PRAGMA synchronous = NORMAL")
        yield TaskWritesSaver(conn, serde=serializer())


@contextlib.asynccontextmanager
async def _open_postgres(url: str) -> AsyncIterator[PostgresTaskWritesSaver]:
    """Connect as the saver requires (autocommit, rows as dicts) and set its tables up."""
    from psycopg import AsyncConnection
    from psycopg.rows import dict_row

    from ribao.runs.backend import CONNECT_TIMEOUT_S, libpq_url

    conn = await AsyncConnection.connect(
        libpq_url(url), autocommit=True, prepare_threshold=0, row_factory=dict_row,
        connect_timeout=CONNECT_TIMEOUT_S,
    )  # fmt: skip
    async with conn:
        saver = PostgresTaskWritesSaver(conn, serde=serializer())
        await setup_postgres(saver)
        yield saver
