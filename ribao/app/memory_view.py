"""Use cases of the memory you can see and edit: its stats, its papers, a search, forgetting a paper."""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ribao.app.memory_open import open_memory
from ribao.arxiv_ids import parse_id
from ribao.errors import BadFlag, ConfigError, NoMemory
from ribao.memory.records import MemoryHit, MemoryStats
from ribao.memory.store import MemoryStore, collection_for
from ribao.profiles.names import check_profile
from ribao.schemas import FeaturedPaper

if TYPE_CHECKING:
    from ribao.settings import Settings


@contextlib.contextmanager
def open_memory_of(settings: Settings, profile: str | None) -> Iterator[MemoryStore | None]:
    """Open the memory of `profile` (None: the default one); None when that profile's collection does
    not exist yet (a read creates none: an empty collection would pin today's embedder on it).

    Raises `BadFlag` for an unknown profile and `ConfigError` when the memory is disabled."""
    name = check_profile(settings, profile)
    if not settings.memory.enabled:
        raise ConfigError("the memory is disabled (memory.enabled = false)")
    if settings.memory.url is None and not (settings.home / "memory").is_dir():
        raise NoMemory(f"no memory yet: {settings.home / 'memory'} does not exist (a digest's picks are "
                       "remembered once it is written)")  # fmt: skip
    if not MemoryStore.has_collection(
        settings.home / "memory", url=settings.memory.url, collection=collection_for(name),
        timeout_s=settings.memory.timeout_seconds,
    ):  # fmt: skip
        yield None
        return
    with open_memory(settings, name) as store:
        yield store


def stats(settings: Settings, profile: str | None = None) -> MemoryStats:
    """Return the profile memory's record count, remembered days and embedder."""
    with open_memory_of(settings, profile) as store:
        if store is not None:
            return store.stats()
    from ribao.memory import make_embedder

    embedder = make_embedder(settings.memory.embedder)
    location = settings.memory.url or str(settings.home / "memory")
    collection = collection_for(check_profile(settings, profile))
    return MemoryStats(location=location, collection=collection, count=0, dates=[], embedder=embedder.name,
                       dim=embedder.dim)  # fmt: skip


def papers(settings: Settings, profile: str | None = None, limit: int = 20) -> builtins.list[FeaturedPaper]:
    """Return up to `limit` remembered papers of the profile, newest day first."""
    with open_memory_of(settings, profile) as store:
        return store.list(limit) if store else []


def search(settings: Settings, text: str, profile: str | None = None, k: int = 5) -> builtins.list[MemoryHit]:
    """Return the `k` remembered papers most similar to `text` (embedded as the memory embeds)."""
    with open_memory_of(settings, profile) as store:
        return store.search(text, k) if store else []


def forget(settings: Settings, arxiv_id: str, profile: str | None = None) -> bool:
    """Forget one paper of the profile's memory, so it may be featured again; return whether it was there.
    Raises `BadFlag` for what is not one arXiv id."""
    try:
        parse_id(arxiv_id)
    except ValueError as exc:
        raise BadFlag(str(exc)) from None
    with open_memory_of(settings, profile) as store:
        return store.forget(arxiv_id) if store else False
