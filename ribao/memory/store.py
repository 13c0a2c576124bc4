"""The memory of featured papers: one Chroma record per canonical arXiv id, embedded by ribao itself.

"Earlier" always means an announcement day strictly before the run's day. A run for day D looks
only at days < D, so re-running D (or back-filling an older day after newer ones) gives the same
exclusions and flags, and never excludes D's own picks.
"""

from __future__ import annotations

import builtins
import datetime as dt
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, cast
from urllib.parse import urlparse

import numpy as np

from ribao.arxiv_ids import canonical_id
from ribao.errors import MemoryStoreError
from ribao.memory.embedders import Embedder
from ribao.memory.minilm import Preload
from ribao.memory.records import (
    MemoryHit,
    MemoryStats,
    day_number,
    featured_date,
    featured_from_record,
    record_metadata,
    record_text,
)
from ribao.memory.vectors import DayVectors
from ribao.schemas import Exclusion, FeaturedPaper, MemoryFlag, Paper

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from chromadb.api.types import Where

DEFAULT_COLLECTION = "featured_papers"
#: The profile whose memory is `DEFAULT_COLLECTION` (homes written before profiles keep theirs).
DEFAULT_PROFILE = "default"  # = ribao.profiles.names.DEFAULT_PROFILE (a lower layer)


def collection_for(profile: str | None) -> str:
    """Return the collection of a reader profile's memory: each profile remembers its own picks."""
    if profile in (None, DEFAULT_PROFILE):
        return DEFAULT_COLLECTION
    return f"{DEFAULT_COLLECTION}__{profile}"


_META_EMBEDDER = "embedder"
_META_DIM = "embedder_dim"


def _before(date: dt.date) -> Where:
    """Return the metadata filter matching records of days strictly before `date`."""
    # cast: mypy cannot pick the operator member of chroma's `Where` union from a dict literal.
    return cast("Where", {"day": {"$lt": day_number(date)}})


def _matrix(vectors: Sequence[Sequence[float]]) -> np.ndarray:
    """Return vectors as the float32 (n, dim) array Chroma stores anyway."""
    return np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)


def default_memory_dir() -> Path:
    """Return ``<home>/memory``, home being `ribao.settings.default_home()` (the one home-folder rule)."""
    from ribao.settings import default_home

    return default_home() / "memory"


@contextmanager
def _chroma(action: str, where: str) -> Iterator[None]:
    """Re-raise any Chroma or connection failure during `action` as `MemoryStoreError`."""
    try:
        yield
    except MemoryStoreError:
        raise
    except Exception as exc:  # chromadb, httpx and the Rust bindings raise many unrelated types
        msg = f"Chroma memory at {where}: {action} failed: {type(exc).__name__}: {exc}"
        raise MemoryStoreError(msg) from exc


def _client(path: Path | str | None, url: str | None) -> tuple[ClientAPI, str]:
    """Return a Chroma client and a printable location: a server when `url` is set, else a folder."""
    # onnxruntime phones home unless told not to; chroma imports it for its default embedder.
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if url:
        parts = urlparse(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise MemoryStoreError(f"memory URL must look like http://host:port, got {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 8000)
        with _chroma("connecting", url):
            client = chromadb.HttpClient(
                host=parts.hostname, port=port, ssl=parts.scheme == "https", settings=settings
            )
        return client, url
    folder = Path(path) if path is not None else default_memory_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with _chroma("opening", str(folder)):
        client = chromadb.PersistentClient(path=str(folder), settings=settings)
    return client, str(folder)


class MemoryStore:
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
        self._preload: Preload | None = None

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
    ) -> MemoryStore:
        """Open or create the collection in the folder `path` (default `default_memory_dir()`) or on a server.

        The collection is `collection`, else that of `profile` (`collection_for`): a paper featured for
        one reader can still be featured for another, never twice for the same one.

        `vectors_dir` (e.g. ``<home>/cache/embeddings``) keeps each day's embeddings for re-runs.

        Raises `MemoryStoreError` when Chroma cannot be reached, or when the collection was built
        with another embedder (name or dimension) or another distance than cosine.
        """
        collection = collection or collection_for(profile)
        client, location = _client(path, url)
        with _chroma(f"opening collection {collection!r}", location):
            col = client.get_or_create_collection(
                collection,
                # None is not enough offline: Chroma still falls back to its downloading default
                # whenever a call lacks explicit embeddings, so every call below passes them.
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={_META_EMBEDDER: embedder.name, _META_DIM: embedder.dim},
            )
        meta = col.metadata or {}
        built_with = (meta.get(_META_EMBEDDER), meta.get(_META_DIM))
        if built_with != (embedder.name, embedder.dim):
            raise MemoryStoreError(
                f"memory collection {collection!r} at {location} was built with embedder "
                f"{built_with[0]!r} (dim {built_with[1]}), but the configured embedder is "
                f"{embedder.name!r} (dim {embedder.dim}); use that embedder or another collection"
            )
        space = ((col.configuration or {}).get("hnsw") or {}).get("space", "l2")
        if space != "cosine":
            raise MemoryStoreError(
                f"memory collection {collection!r} at {location} uses distance {space!r}, expected 'cosine'"
            )
        cache = DayVectors(vectors_dir, embedder.name) if vectors_dir is not None else None
        return cls(col, embedder, location, cache)

    @staticmethod
    def has_collection(path: Path | str | None, *, url: str | None, collection: str) -> bool:
        """Return whether `collection` exists, creating nothing (`open` creates it): for reads."""
        client, location = _client(path, url)
        with _chroma("listing collections", location):
            return collection in [c if isinstance(c, str) else c.name for c in client.list_collections()]

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

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _embed_fresh(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts and check the embedder kept its promised count and dimension."""
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        vectors = self.embedder.embed(texts)
        if len(vectors) != len(texts) or any(len(v) != self.embedder.dim for v in vectors):
            raise MemoryStoreError(
                f"embedder {self.embedder.name!r} returned {len(vectors)} vectors of dims "
                f"{sorted({len(v) for v in vectors})}, expected {len(texts)} of dim {self.embedder.dim}"
            )
        return _matrix(vectors)

    def _embed(self, texts: Sequence[str], date: dt.date | None = None) -> np.ndarray:
        """Return the (n, dim) vectors of texts, through the day's cache when there is one and a date."""
        if self.vectors is None or date is None:
            return self._embed_fresh(texts)
        return self.vectors.embed(date, texts, self._embed_fresh)

    def _has_records(self, where: Where) -> bool:
        """Say whether at least one record matches the metadata filter."""
        with _chroma("get", self.location):
            return bool(self._col.get(where=where, limit=1, include=[])["ids"])

    def featured_before(self, ids: Sequence[str], date: dt.date) -> list[Exclusion]:
        """Return those canonical ids already featured on a day before `date`, in input order."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return []
        with _chroma("get", self.location):
            got = self._col.get(ids=wanted, where=_before(date), include=["metadatas"])
        on = {i: featured_date(i, m) for i, m in zip(got["ids"], got["metadatas"] or [], strict=True)}
        return [Exclusion(arxiv_id=i, featured_on=on[i]) for i in wanted if i in on]

    def near_duplicates(
        self, papers: Sequence[Paper], date: dt.date, *, threshold: float = 0.85, k: int = 3
    ) -> list[MemoryFlag]:
        """Flag candidates whose title+abstract is close to a paper featured before `date`.

        For each paper, up to `k` past papers with another id and cosine similarity >= `threshold`
        (similarity = 1 - Chroma's cosine distance, in [-1, 1]), most similar first. Embeds nothing
        and returns [] when no earlier day is remembered.
        """
        earlier = _before(date)
        if not papers or not self._has_records(earlier):
            return []
        vectors = self._embed([record_text(p.title, p.abstract) for p in papers], date)
        with _chroma("query", self.location):
            # k + 1 because the paper itself may be stored under its own id; that hit is dropped.
            res = self._col.query(
                query_embeddings=vectors,
                n_results=k + 1,
                where=earlier,
                include=["metadatas", "distances"],
            )
        flags: list[MemoryFlag] = []
        rows = zip(papers, res["ids"], res["metadatas"] or [], res["distances"] or [], strict=True)
        for paper, ids, metas, dists in rows:
            hits = [(i, m, 1.0 - d) for i, m, d in zip(ids, metas, dists, strict=True) if i != paper.arxiv_id]
            for past_id, meta, sim in hits[:k]:
                if sim >= threshold:
                    flags.append(
                        MemoryFlag(
                            arxiv_id=paper.arxiv_id,
                            similar_to=past_id,
                            similar_title=str(meta.get("title", "")),
                            featured_on=featured_date(past_id, meta),
                            similarity=max(-1.0, min(1.0, sim)),
                        )
                    )
        return flags

    def remember(self, date: dt.date, featured: Sequence[FeaturedPaper]) -> int:
        """Make `featured` the records of `date`, replacing that date's old ones; return the number stored.

        A paper already remembered on an earlier day keeps that record (it was featured first
        there); a record of a later day moves to `date`. Embeds before deleting, so a failing
        embedder leaves the memory unchanged. Raises `MemoryStoreError` on a paper of another date
        or a repeated id.
        """
        ids = [p.arxiv_id for p in featured]
        if len(set(ids)) != len(ids):
            repeated = sorted({i for i in ids if ids.count(i) > 1})
            raise MemoryStoreError(f"remember({date}): repeated ids {repeated}")
        other = sorted({p.date for p in featured if p.date != date})
        if other:
            raise MemoryStoreError(f"remember({date}): papers dated {[d.isoformat() for d in other]}")
        day = day_number(date)
        earlier: set[str] = set()
        if ids:
            with _chroma("get", self.location):
                earlier = set(self._col.get(ids=ids, where=_before(date), include=[])["ids"])
        keep = [p for p in featured if p.arxiv_id not in earlier]
        vectors = self._embed([record_text(p.title, p.abstract) for p in keep], date)
        with _chroma("replace", self.location):
            self._col.delete(where={"day": day})
            if keep:
                self._col.upsert(
                    ids=[p.arxiv_id for p in keep],
                    embeddings=vectors,
                    documents=[record_text(p.title, p.abstract) for p in keep],
                    metadatas=[record_metadata(p) for p in keep],
                )
        return len(keep)

    def stats(self) -> MemoryStats:
        """Return the record count, the remembered days and the embedder of the collection."""
        with _chroma("get", self.location):
            got = self._col.get(include=["metadatas"])
        dates = {featured_date(i, m) for i, m in zip(got["ids"], got["metadatas"] or [], strict=True)}
        return MemoryStats(
            location=self.location,
            collection=self._col.name,
            count=len(got["ids"]),
            dates=sorted(dates),
            embedder=self.embedder.name,
            dim=self.embedder.dim,
        )

    def search(self, text: str, k: int = 5) -> list[MemoryHit]:
        """Return up to `k` remembered papers most similar to `text`, most similar first."""
        with _chroma("count", self.location):
            if self._col.count() == 0:
                return []
        vector = self._embed([text])
        with _chroma("query", self.location):
            res = self._col.query(
                query_embeddings=vector,
                n_results=k,
                include=["metadatas", "documents", "distances"],
            )
        rows = zip(res["ids"][0], (res["metadatas"] or [[]])[0], (res["documents"] or [[]])[0], strict=True)
        dists = (res["distances"] or [[]])[0]
        return [
            MemoryHit(paper=featured_from_record(i, m, doc), similarity=max(-1.0, min(1.0, 1.0 - d)))
            for (i, m, doc), d in zip(rows, dists, strict=True)
        ]

    def forget(self, arxiv_id: str) -> bool:
        """Delete the record of one paper (any id form: ``2602.15763v2``, ``arXiv:…``, an abs URL);
        return whether it existed. Something that is no arXiv id was never remembered."""
        try:
            key = canonical_id(arxiv_id)
        except ValueError:
            return False
        with _chroma("delete", self.location):
            existed = bool(self._col.get(ids=[key], include=[])["ids"])
            if existed:
                self._col.delete(ids=[key])
        return existed

    # Defined last: inside the class body the name `list` shadows the builtin after this point.
    def list(self, limit: int = 20) -> builtins.list[FeaturedPaper]:
        """Return up to `limit` remembered papers, newest day first, then by rank."""
        with _chroma("get", self.location):
            got = self._col.get(include=["metadatas", "documents"])
        papers = [
            featured_from_record(i, m, doc)
            for i, m, doc in zip(got["ids"], got["metadatas"] or [], got["documents"] or [], strict=True)
        ]
        papers.sort(key=lambda p: (-p.date.toordinal(), p.rank, p.arxiv_id))
        return papers[:limit]
