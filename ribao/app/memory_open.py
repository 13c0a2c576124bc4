"""Open the memory: the sync store the memory commands use, and the async one a run's nodes use."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ribao.memory import MemoryStore
from ribao.memory.aio import AsyncMemory, ServerMemory
from ribao.memory.vectors import DayVectors

if TYPE_CHECKING:
    from ribao.memory.embedders import Embedder
    from ribao.settings import Settings


def _vectors_dir(settings: Settings) -> Path:
    """Return where the day's embeddings are kept: `<home>/cache/embeddings`."""
    return settings.home / "cache" / "embeddings"


@contextlib.contextmanager
def open_memory(settings: Settings, profile: str | None = None) -> Iterator[MemoryStore | None]:
    """Open the Chroma memory in `<home>/memory` (or at `memory.url`) for the block, with the sync
    client the commands use; None when disabled. `profile` names the reader whose memory it is (None:
    the default profile's). The embedder's model starts loading in the background now, and that load
    is ended when the block is left (an error, exit 3, Ctrl-C or success alike): onnxruntime aborts a
    process that exits mid-load."""
    if not settings.memory.enabled:
        yield None
        return
    from ribao.memory import make_embedder

    with MemoryStore.open(
        settings.home / "memory",
        url=settings.memory.url,
        embedder=make_embedder(settings.memory.embedder),
        profile=profile,
        vectors_dir=_vectors_dir(settings),
        timeout_s=settings.memory.timeout_seconds,
    ) as store:
        store.preload()
        yield store


@contextlib.contextmanager
def open_run_memory(
    settings: Settings, profile: str | None = None, embedder: Embedder | None = None
) -> Iterator[AsyncMemory | None]:
    """Open the memory a run's nodes use for the block (None when disabled): a Chroma server at
    `memory.url` through the async client (reached when the run starts: `AsyncMemory.connect`), else
    `<home>/memory` in worker threads. `embedder` reuses an open memory's embedder (another profile's
    memory of the same day); a new one starts loading its model now, as `open_memory` says."""
    if not settings.memory.enabled:
        yield None
        return
    if settings.memory.url is None:
        if embedder is None:
            with open_memory(settings, profile) as store:
                yield None if store is None else AsyncMemory.of(store)
            return
        folder = settings.home / "memory"
        with MemoryStore.open(
            folder, embedder=embedder, profile=profile, vectors_dir=_vectors_dir(settings)
        ) as store:
            yield AsyncMemory.of(store)
        return
    from ribao.memory import make_embedder

    fresh = embedder is None
    embedder = embedder or make_embedder(settings.memory.embedder)
    vectors = DayVectors(_vectors_dir(settings), embedder.name)
    with contextlib.closing(
        ServerMemory(
            settings.memory.url,
            embedder=embedder,
            profile=profile,
            vectors=vectors,
            timeout_s=settings.memory.timeout_seconds,
        )
    ) as memory:
        if fresh:
            memory.preload()
        yield memory
