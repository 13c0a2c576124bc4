"""The memory as the graph's async nodes use it: one interface over an embedded store or a Chroma server.

`AsyncMemory.of(store)` runs an embedded (or sync) `MemoryStore` in worker threads; `ServerMemory`
talks to a Chroma server through `chromadb.AsyncHttpClient` on the run's event loop. Either way
the embedder (MiniLM is CPU-bound) and the day's vectors cache (files) run in worker threads.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ribao.memory import ops
from ribao.memory.embedders import Embedder
from ribao.memory.store import (
    MemoryStore,
    Preloading,
    check_collection,
    chroma_errors,
    chroma_settings,
    collection_for,
    collection_options,
    server_address,
)
from ribao.memory.vectors import DayVectors
from ribao.schemas import Exclusion, FeaturedPaper, MemoryFlag, Paper

if TYPE_CHECKING:
    from chromadb.api.models.AsyncCollection import AsyncCollection

T = TypeVar("T")

#: How long connecting to a Chroma server may take (its HTTP client itself never times out).
CONNECT_TIMEOUT_S = 30.0


class AsyncMemory:
    """The featured papers a run reads and remembers; every method leaves the event loop free."""

    embedder: Embedder
    location: str

    @staticmethod
    def of(memory: MemoryStore | AsyncMemory) -> AsyncMemory:
        """Return `memory` as an `AsyncMemory` (a sync store runs in worker threads)."""
        return memory if isinstance(memory, AsyncMemory) else ThreadedMemory(memory)

    async def connect(self) -> None:
        """Reach the store from the running event loop and check its collection (once); raises
        `MemoryStoreError` naming the endpoint when it cannot be reached."""

    async def _step(self, step: ops.Step) -> Any:
        raise NotImplementedError

    async def _run(self, op: ops.Op[T]) -> T:
        """Drive one memory operation (ribao.memory.ops), awaiting each of its steps."""
        step = ops.advance(op, None)
        while not isinstance(step, ops.Done):
            step = ops.advance(op, await self._step(step))
        return step.value

    async def featured_before(self, ids: Sequence[str], date: dt.date) -> list[Exclusion]:
        """Return the ids featured on a day before `date` (`MemoryStore.featured_before`)."""
        return await self._run(ops.featured_before(ids, date))

    async def near_duplicates(
        self, papers: Sequence[Paper], date: dt.date, *, threshold: float = 0.85, k: int = 3
    ) -> list[MemoryFlag]:
        """Flag near-duplicates of papers featured before `date` (`MemoryStore.near_duplicates`)."""
        return await self._run(ops.near_duplicates(papers, date, threshold, k))

    async def remember(self, date: dt.date, featured: Sequence[FeaturedPaper]) -> int:
        """Make `featured` the records of `date`; return the number stored (`MemoryStore.remember`)."""
        return await self._run(ops.remember(date, featured))


class ThreadedMemory(AsyncMemory):
    """A sync `MemoryStore` (the embedded one) behind the async interface: each step in a worker thread."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.embedder = store.embedder
        self.location = store.location

    async def _step(self, step: ops.Step) -> Any:
        return await asyncio.to_thread(self.store.step, step)


class ServerMemory(AsyncMemory, Preloading):
    """A collection on a Chroma server at `url`, reached through `chromadb.AsyncHttpClient`.

    Built off the event loop (it imports chromadb); `connect` then opens the collection from the
    run's loop. Chroma's async client keeps one HTTP connection pool per event loop.
    """

    def __init__(
        self, url: str, *, embedder: Embedder, profile: str | None = None, vectors: DayVectors | None = None
    ) -> None:
        self.address = server_address(url)
        self.location = url
        self.embedder = embedder
        self.collection = collection_for(profile)
        self.vectors = vectors
        self._settings = chroma_settings()
        # Imported now: on the event loop, importing would read files.
        import chromadb.api.async_fastapi  # noqa: F401

        self._col: AsyncCollection | None = None

    async def connect(self) -> None:
        """Open (or create) the collection on the server and check its embedder and distance, once."""
        if self._col is not None:
            return
        import chromadb

        host, port, ssl = self.address
        with chroma_errors("connecting", self.location):
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                client = await chromadb.AsyncHttpClient(
                    host=host, port=port, ssl=ssl, settings=self._settings
                )
                col = await client.get_or_create_collection(
                    self.collection, **collection_options(self.embedder)
                )
        check_collection(col, self.embedder, self.location)
        self._col = col

    async def _step(self, step: ops.Step) -> Any:
        if isinstance(step, ops.Embed):
            return await asyncio.to_thread(ops.embed, self.embedder, self.vectors, step)
        await self.connect()
        with chroma_errors(step.action, self.location):
            return await getattr(self._col, step.method)(**step.kwargs)
