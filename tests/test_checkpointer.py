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
