"""Copy a home's SQLite checkpoints into Postgres: every checkpoint of every run, with its pending writes."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from ribao.copy_count import CopyCount
from ribao.graph.checkpoint import open_checkpointer


async def copy_checkpoints(source: Path, target: str) -> list[CopyCount]:
    """Copy every thread of the SQLite checkpoints at `source` into the Postgres database `target`,
    oldest checkpoint first so each keeps its parent; a checkpoint already there is written again
    unchanged (the saver upserts), so a copy can be repeated. Returns the checkpoints and the pending
    writes of the copied threads, counted in the source and then in the target."""
    async with open_checkpointer(source) as src, open_checkpointer(target) as dst:
        tuples = [t async for t in src.alist(None)]
        threads: dict[str, list[Any]] = defaultdict(list)
        for t in tuples:
            threads[t.config["configurable"]["thread_id"]].append(t)
        for saved in threads.values():
            for t in reversed(saved):  # alist gives the newest first
                parent = t.parent_config or {"configurable": {}}
                config: Any = {"configurable": {**t.config["configurable"], **parent["configurable"]}}
                config["configurable"].pop("checkpoint_id", None)
                if t.parent_config:
                    config["configurable"]["checkpoint_id"] = parent["configurable"]["checkpoint_id"]
                stored = await dst.aput(config, t.checkpoint, t.metadata, t.checkpoint["channel_versions"])
                by_task: dict[str, list[tuple[str, Any]]] = defaultdict(list)
                for task_id, channel, value in t.pending_writes or []:
                    by_task[task_id].append((channel, value))
                for task_id, writes in by_task.items():
                    await dst.aput_writes(stored, writes, task_id)
        target_tuples = [t for thread in threads for t in [x async for x in dst.alist(_thread(thread))]]
    return [
        CopyCount("checkpoints", len(tuples), len(target_tuples)),
        CopyCount("checkpoint writes", _writes(tuples), _writes(target_tuples)),
    ]


def _writes(tuples: list[Any]) -> int:
    return sum(len(t.pending_writes or []) for t in tuples)


def _thread(thread_id: str) -> Any:
    return {"configurable": {"thread_id": thread_id}}
