"""The checkpoint database: WAL, commits that survive a process crash without an fsync each, and no
write left behind when a failed run closes it."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

from langgraph.checkpoint.base import empty_checkpoint

from ribao.graph.checkpoint import open_checkpointer
from tests.support.sqlite_hold import held_new_file


def test_checkpoints_are_written_in_wal_mode_without_an_fsync_per_commit(tmp_path: Path) -> None:
    path = tmp_path / "checkpoints.sqlite"

    async def write_one() -> int:
        async with open_checkpointer(path) as saver:
            config = {"configurable": {"thread_id": "run", "checkpoint_ns": ""}}
            await saver.aput(config, empty_checkpoint(), {}, {})
            async with saver.conn.execute("PRAGMA synchronous") as cursor:
                row = await cursor.fetchone()
            return int(row[0])  # type: ignore[index]

    assert asyncio.run(write_one()) == 1  # NORMAL (FULL is 2)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT count(*) FROM checkpoints").fetchone()[0] == 1


def test_a_write_submitted_as_the_run_ends_is_committed_before_the_database_closes(tmp_path: Path) -> None:
    """LangGraph submits the error write of a task it cancelled (a sibling of a failed task) while the
    run's error is already on its way out, and does not wait for it. Closing the connection under that
    write left it failed or half done, its transaction holding the database's write lock on a closed
    connection: the resume that followed in the same process failed with "database is locked"."""
    path = tmp_path / "checkpoints.sqlite"
    config = {"configurable": {"thread_id": "run", "checkpoint_ns": ""}}

    async def fail_with_a_late_write() -> asyncio.Task[None]:
        async with open_checkpointer(path) as saver:
            stored = await saver.aput(config, empty_checkpoint(), {}, {})
            late = saver.aput_writes(stored, [("__error__", "cancelled")], "sibling")
            return asyncio.ensure_future(late)  # as LangGraph's background executor runs it

    late = asyncio.run(fail_with_a_late_write())
    assert late.done() and late.exception() is None
    with contextlib.closing(sqlite3.connect(path, timeout=0)) as conn:
        conn.execute("BEGIN IMMEDIATE")  # "database is locked" at once if a write is still open
        assert conn.execute("SELECT task_id FROM writes").fetchall() == [("sibling",)]
        conn.rollback()


def test_postgres_checkpoints_outlive_the_connection_and_concurrent_setups_agree(postgres_url: str) -> None:
    async def write_then_read() -> tuple[int, list[str]]:
        config = {"configurable": {"thread_id": "run", "checkpoint_ns": ""}}
        # Two openers at once on a fresh database: the saver's table setup runs once, under a lock.
        async with open_checkpointer(postgres_url) as a, open_checkpointer(postgres_url) as b:
            await a.aput(config, empty_checkpoint(), {"source": "input", "step": -1}, {})
            await b.aput(config, empty_checkpoint(), {"source": "loop", "step": 0}, {})
        async with open_checkpointer(postgres_url) as again:
            found = [t async for t in again.alist(config)]
        return len(found), sorted(str(t.metadata["source"]) for t in found)

    async def both_fresh() -> None:
        await asyncio.gather(*(_open_once(postgres_url) for _ in range(3)))

    asyncio.run(both_fresh())
    assert asyncio.run(write_then_read()) == (2, ["input", "loop"])


async def _open_once(url: str) -> None:
    async with open_checkpointer(url):
        pass


def test_a_checkpoint_file_opened_while_another_connection_writes_it_waits_for_it(tmp_path: Path) -> None:
    # As the run log: the saver's switch to WAL failed at once on a new file another run held.
    path = tmp_path / "checkpoints.sqlite"

    async def open_and_set_up() -> str:
        async with open_checkpointer(path) as saver:
            await saver.setup()
            async with saver.conn.execute("PRAGMA journal_mode") as cur:
                return str((await cur.fetchone())[0])

    with held_new_file(path):
        assert asyncio.run(open_and_set_up()) == "wal"
