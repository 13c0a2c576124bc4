"""The SQLite checkpointer of runs: one thread per run id, our state types allow-listed."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
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


@contextlib.asynccontextmanager
async def open_checkpointer(path: Path) -> AsyncIterator[AsyncSqliteSaver]:
    """Open (creating) the checkpoint database at `path` for the duration of the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    async with aiosqlite.connect(str(path)) as conn:
        # The saver turns WAL on; with WAL, NORMAL loses nothing on a process crash (kill -9 included)
        # and at most the last steps on a power cut, as in the run log. FULL paid an fsync per step
        # and per finished task (~64 a run, ~5 ms each here) while the next step waited.
        await conn.execute("PRAGMA synchronous = NORMAL")
        yield AsyncSqliteSaver(conn, serde=serializer())
