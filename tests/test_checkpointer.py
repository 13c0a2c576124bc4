"""The checkpoint database: WAL, and commits that survive a process crash without an fsync each."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from langgraph.checkpoint.base import empty_checkpoint

from ribao.graph.checkpoint import open_checkpointer


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
