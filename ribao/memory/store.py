"""The memory of featured papers: one Chroma record per canonical arXiv id, embedded by ribao itself.

`MemoryStore` is the sync store (an embedded folder, or a server through `HttpClient`) for the
commands; the graph's nodes use `AsyncMemory` (ribao.memory.aio). The operations are in
ribao.memory.ops, written once for both.
"""

from __future__ import annotations

import builtins
import datetime as dt
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlparse

from ribao.errors import MemoryStoreError
from ribao.memory import ops
from ribao.memory.embedders import Embedder
from ribao.memory.minilm import Preload
from ribao.memory.records import MemoryHit, MemoryStats, featured_date, featured_from_record
from ribao.memory.vectors import DayVectors
from ribao.schemas import Exclusion, FeaturedPaper, MemoryFlag, Paper

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.AsyncCollection import AsyncCollection
    from chromadb.api.models.Collection import Collection

T = TypeVar("T")

DEFAULT_COLLECTION = "featured_papers"
#: The profile whose memory is `DEFAULT_COLLECTION` (homes written before profiles keep theirs).
DEFAULT_PROFILE = "default"  # = ribao.profiles.names.DEFAULT_PROFILE (a lower layer)
#: Each request to a Chroma server waits at most this (`[memory] timeout_seconds` gives the users').
DEFAULT_TIMEOUT_S = 30.0
DETAIL_CHARS = 160  # of a failure's text in its one line (a server's error page runs to pages)


def collection_for(profile: str | None) -> str:
    """Return the collection of a reader profile's memory: each profile remembers its own picks."""
    if profile in (None, DEFAULT_PROFILE):
        return DEFAULT_COLLECTION
    return f"{DEFAULT_COLLECTION}__{profile}"


_META_EMBEDDER = "embedder"
_META_DIM = "embedder_dim"


def default_memory_dir() -> Path:
    """Return ``<home>/memory``, home being `ribao.settings.default_home()` (the one home-folder rule)."""
    from ribao.settings import default_home

    return default_home() / "memory"


@contextmanager
def chroma_errors(action: str, where: str) -> Iterator[None]:
    """Re-raise any Chroma or connection failure during `action` as `MemoryStoreError`."""
    try:
        yield
    except MemoryStoreError:
        raise
    except Exception as exc:  # chromadb, httpx and the Rust bindings raise many unrelated types
        raise MemoryStoreError(f"Chroma memory at {where}: {action} failed: {_describe(exc)}") from exc


def _describe(exc: Exception) -> str:
    """Return `exc` as a short line: the HTTP status a server answered with, its text without markup."""
    bound = _timeout_of(exc)
    if bound is not None:  # said the way the run's async client says it
        return f"no answer within {bound:g} s"
    # Chroma raises a bare Exception(response text) for an error it does not know, while handling
    # httpx's HTTPStatusError: the status is only on that. The heartbeat raises the HTTPStatusError.
    own = getattr(exc, "response", None)
    response = own if own is not None else getattr(exc.__context__, "response", None)
    said = own.text if own is not None else str(exc)
    text = " ".join(re.sub(r"<[^>]*>", " ", said).split())
    if len(text) > DETAIL_CHARS:
        text = text[:DETAIL_CHARS] + "…"
    status = getattr(response, "status_code", None)
    if isinstance(status, int):
        answered = f"HTTP {status} {getattr(response, 'reason_phrase', '')}".rstrip()
        return f"{answered}: {text}" if text else answered
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _timeout_of(exc: BaseException) -> float | None:
    """Return the read timeout of the request an httpx timeout `exc` (or its cause) ended, else None."""
    import httpx

    for err in (exc, exc.__cause__, exc.__context__):
        if isinstance(err, httpx.TimeoutException):
            try:
                bound = err.request.extensions.get("timeout", {}).get("read")
            except RuntimeError:  # no request attached
                return None
            return float(bound) if bound is not None else None
    return None


def server_address(url: str) -> tuple[str, int, bool]:
    """Return (host, port, https) of a Chroma server URL; raises `MemoryStoreError` for another shape."""
    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MemoryStoreError(f"memory URL must look like http://host:port, got {url!r}")
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 8000), parts.scheme == "https"


def chroma_settings() -> Any:
    """Return the Chroma client settings ribao uses (no telemetry), importing chromadb. Blocking."""
    # onnxruntime phones home unless told not to; chroma imports it for its default embedder.
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False)


def _client(
    path: Path | str | None, url: str | None, timeout_s: float = DEFAULT_TIMEOUT_S
) -> tuple[ClientAPI, str]:
    """Return a Chroma client and a printable location: a server when `url` is set (each request bounded
    by `timeout_s`), else a folder."""
    settings = chroma_settings()
    import chromadb

    if url:
        from ribao.memory.http_client import bounded_client

        host, port, ssl = server_address(url)
        with chroma_errors("connecting", url):
            client = bounded_client(host, port, ssl, settings, timeout_s)
        return client, url
    folder = Path(path) if path is not None else default_memory_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with chroma_errors("opening", str(folder)):
        client = chromadb.PersistentClient(path=str(folder), settings=settings)
    return client, str(folder)


def collection_options(embedder: Embedder) -> dict[str, Any]:
    """Return the keyword arguments of `get_or_create_collection` for a memory collection."""
    return {
        # None is not enough offline: Chroma still falls back to its downloading default
        # whenever a call lacks explicit embeddings, so every operation passes them.
        "embedding_function": None,
        "configuration": {"hnsw": {"space": "cosine"}},
        "metadata": {_META_EMBEDDER: embedder.name, _META_DIM: embedder.dim},
    }


def check_collection(col: Collection | AsyncCollection, embedder: Embedder, location: str) -> None:
    """Raise `MemoryStoreError` when the collection was built with another embedder (name or dimension)
    or another distance than cosine."""
    meta = col.metadata or {}
    built_with = (meta.get(_META_EMBEDDER), meta.get(_META_DIM))
    if built_with != (embedder.name, embedder.dim):
        raise MemoryStoreError(
            f"memory collection {col.name!r} at {location} was built with embedder "
            f"{built_with[0]!r} (dim {built_with[1]}), but the configured embedder is "
            f"{embedder.name!r} (dim {embedder.dim}); use that embedder or another collection"
        )
    space = ((col.configuration or {}).get("hnsw") or {}).get("space", "l2")
    if space != "cosine":
        raise MemoryStoreError(
            f"memory collection {col.name!r} at {location} uses distance {space!r}, expected 'cosine'"
        )


class Preloading:
    """Starts and ends the background load of the embedder's model (MiniLM has one)."""

    embedder: Embedder
    _preload: Preload | None = None

    def preload(self) -> None:
        """Start loading the embedder's model in the background, if it has one (MiniLM does); raises
        `MemoryStoreError` when that model is not installed. `close()` ends the load."""
        start = getattr(self.embedder, "preload", None)
        if callable(start) and self._preload is None:
            self._preload = start()

    def close(self) -> None:
        """End the background load of `preload` (cancel it, or wait for it: well under a second)."""
        if self._preload is not None:
            self._preload.close()
            self._preload = None


class MemoryStore(Preloading):
    """Featured papers in a Chroma collection with cosine HNSW; all vectors come from `embedder`.

    With `vectors`, the vectors of a day's candidates and picks are kept on disk by day, so a
    re-run, a resume or the remember step of that day embeds nothing already embedded.
    """

    def __init__(
        self, collection: Collection, embedder: Embedder, location: str, vectors: DayVectors | None = None
    ) -> None:
        self._col = collection
        self.embedder = embedder
        self.location = location
        self.vectors = vectors

    @classmethod
    def open(
        cls,
        path: Path | str | None = None,
        *,
        url: str | None = None,
        embedder: Embedder,
        collection: str | None = None,
        profile: str | None = None,
        vectors_dir: Path | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> MemoryStore:
        """Open or create the collection in the folder `path` (default `default_memory_dir()`) or on a server.

        The collection is `collection`, else that of `profile` (`collection_for`): a paper featured for
        one reader can still be featured for another, never twice for the same one.

        `vectors_dir` (e.g. ``<home>/cache/embeddings``) keeps each day's embeddings for re-runs.

        Raises `MemoryStoreError` when Chroma cannot be reached, or when the collection was built
        with another embedder (name or dimension) or another distance than cosine.
        """
        collection = collection or collection_for(profile)
        client, location = _client(path, url, timeout_s)
        with chroma_errors(f"opening collection {collection!r}", location):
            col = client.get_or_create_collection(collection, **collection_options(embedder))
        check_collection(col, embedder, location)
        cache = DayVectors(vectors_dir, embedder.name) if vectors_dir is not None else None
        return cls(col, embedder, location, cache)

    @staticmethod
    def has_collection(
        path: Path | str | None, *, url: str | None, collection: str, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> bool:
        """Return whether `collection` exists, creating nothing (`open` creates it): for reads."""
        client, location = _client(path, url, timeout_s)
        with chroma_errors("listing collections", location):
            return collection in [c if isinstance(c, str) else c.name for c in client.list_collections()]

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, op: ops.Op[T]) -> T:
        """Drive one memory operation with this store's sync collection and embedder."""
        step = ops.advance(op, None)
        while not isinstance(step, ops.Done):
            step = ops.advance(op, self.step(step))
        return step.value

    def step(self, step: ops.Step) -> Any:
        """Answer one step of an operation: embed, or call the collection. Blocking."""
        if isinstance(step, ops.Embed):
            return ops.embed(self.embedder, self.vectors, step)
        with chroma_errors(step.action, self.location):
            return getattr(self._col, step.method)(**step.kwargs)

    def featured_before(self, ids: Sequence[str], date: dt.date) -> list[Exclusion]:
        """Return those canonical ids already featured on a day before `date`, in input order."""
        return self._run(ops.featured_before(ids, date))

    def near_duplicates(
        self, papers: Sequence[Paper], date: dt.date, *, threshold: float = 0.85, k: int = 3
    ) -> list[MemoryFlag]:
        """Flag candidates whose title+abstract is close to a paper featured before `date`.

        For each paper, up to `k` past papers with another id and cosine similarity >= `threshold`
        (similarity = 1 - Chroma's cosine distance, in [-1, 1]), most similar first. Embeds nothing
        and returns [] when no earlier day is remembered.
        """
        return self._run(ops.near_duplicates(papers, date, threshold, k))

    def remember(self, date: dt.date, featured: Sequence[FeaturedPaper]) -> int:
        """Make `featured` the records of `date`, replacing that date's old ones; return the number stored.

        A paper already remembered on an earlier day keeps that record (it was featured first
        there); a record of a later day moves to `date`. Embeds before deleting, so a failing
        embedder leaves the memory unchanged. Raises `MemoryStoreError` on a paper of another date
        or a repeated id.
        """
        return self._run(ops.remember(date, featured))

    def stats(self) -> MemoryStats:
        """Return the record count, the remembered days and the embedder of the collection."""
        got = self._run(ops.records(["metadatas"]))
        dates = {featured_date(i, m) for i, m in zip(got["ids"], got["metadatas"] or [], strict=True)}
        return MemoryStats(
            location=self.location,
            collection=self._col.name,
            count=len(got["ids"]),
            dates=sorted(dates),
            embedder=self.embedder.name,
            dim=self.embedder.dim,
        )

    def search(self, text: str, k: int = 5) -> builtins.list[MemoryHit]:
        """Return up to `k` remembered papers most similar to `text`, most similar first."""
        return self._run(ops.search(text, k))

    def forget(self, arxiv_id: str) -> bool:
        """Delete the record of one paper (any id form: ``2602.15763v2``, ``arXiv:…``, an abs URL);
        return whether it existed. Something that is no arXiv id was never remembered."""
        return self._run(ops.forget(arxiv_id))

    # Defined last: inside the class body the name `list` shadows the builtin after this point.
    def list(self, limit: int = 20) -> builtins.list[FeaturedPaper]:
        """Return up to `limit` remembered papers, newest day first, then by rank."""
        got = self._run(ops.records(["metadatas", "documents"]))
        papers = [
            featured_from_record(i, m, doc)
            for i, m, doc in zip(got["ids"], got["metadatas"] or [], got["documents"] or [], strict=True)
        ]
        papers.sort(key=lambda p: (-p.date.toordinal(), p.rank, p.arxiv_id))
        return papers[:limit]
