"""The checkpointer of runs (SQLite in the home, or Postgres at `store.url`): one thread per run id,
our state types allow-listed."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from ribao import schemas
from ribao.calls import LLMCall
from ribao.fulltext.document import PaperText, Section
from ribao.sqlite_wal import ensure_wal


def _not_a_lost_connection(record: logging.LogRecord) -> bool:
    """Drop psycopg's "error ignored terminating <AsyncPipeline>: the connection is lost": the run's own
    error already names the database it lost (`runs.backend.lost_database`)."""
    return not (
        record.msg == "error ignored terminating %r: %s"
        and isinstance(record.args, tuple)
        and "connection is lost" in str(record.args[-1])
    )


#: SQLite's busy timeout for the checkpoint file: how long a writer waits for another.
SQLITE_TIMEOUT_S = 30

# Only these classes may be rebuilt from a checkpoint (LangGraph warns about, and will block,
# unregistered types: a checkpoint database must not be a way to run arbitrary constructors).
STATE_TYPES: tuple[type, ...] = (
    schemas.Paper,
    schemas.Exclusion,
    schemas.MemoryFlag,
    schemas.Ranked,
    schemas.Pick,
    schemas.Shortlisted,
    schemas.ReaderCut,
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
    """A checkpointer mixin that tracks every task write from submission to commit.

    LangGraph emits a task's result on the "tasks" stream as soon as it has *submitted* the task's
    writes to the checkpointer, before they are committed; a kill -9 in between loses the task
    although its result was shown. Waiting in `saved` before showing or recording a result closes
    that window. `settle` waits for every write, for the owner to call before closing the connection.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_flight: dict[str, set[asyncio.Future[None]]] = {}

    def aput_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> Coroutine[Any, Any, None]:
        """Start committing the task's write now, and return the coroutine that waits for the commit."""
        # Not `async def`, and started here: LangGraph calls this before it emits the task's result and
        # awaits the coroutine later; as a run fails it also submits the error writes of the tasks it
        # cancelled without waiting for them. Shielded: a write cancelled between its INSERT and its
        # COMMIT keeps the database's write lock on a connection that is closing.
        write = asyncio.ensure_future(super().aput_writes(config, writes, task_id, task_path))  # type: ignore[misc]
        self._in_flight.setdefault(task_id, set()).add(write)
        write.add_done_callback(functools.partial(self._settled, task_id))
        return self._commit(write)

    @staticmethod
    async def _commit(write: asyncio.Future[None]) -> None:
        """Wait for one write's commit, raising its error; a cancel stops the wait, not the write."""
        await asyncio.shield(write)

    def _settled(self, task_id: str, write: asyncio.Future[None]) -> None:
        """Forget a committed (or failed) write."""
        writes = self._in_flight.get(task_id, set())
        writes.discard(write)
        if not writes:
            self._in_flight.pop(task_id, None)

    async def saved(self, task_id: str) -> None:
        """Wait until every write submitted for `task_id` is committed (or has failed)."""
        if writes := self._in_flight.get(task_id):
            await asyncio.wait(list(writes))

    async def settle(self) -> None:
        """Wait until every write submitted so far is committed (or has failed)."""
        while writes := [w for ws in self._in_flight.values() for w in ws]:
            await asyncio.wait(writes)


class TaskWritesSaver(TaskWrites, AsyncSqliteSaver):
    """The SQLite checkpointer with `TaskWrites.saved`."""


class PostgresTaskWritesSaver(TaskWrites, AsyncPostgresSaver):
    """The Postgres checkpointer (langgraph-checkpoint-postgres) with `TaskWrites.saved`."""


_Saver = TypeVar("_Saver", TaskWritesSaver, PostgresTaskWritesSaver)

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
        logging.getLogger("psycopg").addFilter(_not_a_lost_connection)  # once: a filter is added only once
        async with _open_postgres(target) as saver:
            yield saver
        return
    await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
    # WAL before the saver's own setup switches it: the switch must wait for a concurrent opener.
    await asyncio.to_thread(ensure_wal, target, SQLITE_TIMEOUT_S)
    async with aiosqlite.connect(str(target), timeout=SQLITE_TIMEOUT_S) as conn:
        # With WAL, NORMAL loses nothing on a process crash (kill -9 included)
        # and at most the last steps on a power cut, as in the run log. FULL paid an fsync per step
        # and per finished task (~64 a run, ~5 ms each here) while the next step waited.
        await conn.execute("PRAGMA synchronous = NORMAL")
        async with _settled(TaskWritesSaver(conn, serde=serializer())) as saver:
            yield saver


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
    async with conn, _settled(PostgresTaskWritesSaver(conn, serde=serializer())) as saver:
        await setup_postgres(saver)
        yield saver


@contextlib.asynccontextmanager
async def _settled(saver: _Saver) -> AsyncIterator[_Saver]:
    """Yield `saver`, and wait for all its writes when the block ends, before its connection closes."""
    # A failed run's last writes are not awaited by LangGraph (see `TaskWrites.aput_writes`); closed
    # under one, the connection is left holding that write's lock (a resume then finds the database
    # locked) and the write is lost.
    try:
        yield saver
    finally:
        await saver.settle()
