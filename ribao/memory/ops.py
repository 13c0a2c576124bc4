"""What each memory operation asks of Chroma and of the embedder, written once for both clients.

An operation is a generator: it yields a `Call` (a Chroma collection method) or an `Embed` (texts to
embed), is sent back the result, and returns its answer. `MemoryStore` drives it with a sync client,
`AsyncMemory` with the async one (or the sync one in worker threads), so the rules of "earlier",
exclusions, near-duplicates and replacing a day live here only.

"Earlier" always means an announcement day strictly before the run's day. A run for day D looks
only at days < D, so re-running D (or back-filling an older day after newer ones) gives the same
exclusions and flags, and never excludes D's own picks.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import numpy as np

from ribao.arxiv_ids import canonical_id
from ribao.errors import MemoryStoreError
from ribao.memory.embedders import Embedder
from ribao.memory.records import (
    MemoryHit,
    day_number,
    featured_date,
    featured_from_record,
    record_metadata,
    record_text,
)
from ribao.memory.vectors import DayVectors
from ribao.schemas import Exclusion, FeaturedPaper, MemoryFlag, Paper

if TYPE_CHECKING:
    from chromadb.api.types import Where

T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    """One collection method to call: `action` names it in errors ("get", "query", "replace")."""

    action: str
    method: str
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Embed:
    """Texts to embed (through the day's vectors cache when `date` is set); answered with an array."""

    texts: tuple[str, ...]
    date: dt.date | None = None


Step = Call | Embed
Op = Generator[Step, Any, T]


@dataclass(frozen=True)
class Done(Generic[T]):
    """An operation's answer, once it asks for no further step."""

    value: T


def advance(op: Op[T], answer: Any) -> Step | Done[T]:
    """Send `answer` (None to start) to `op`; return its next step, or `Done` with its answer.

    Each driver (sync, threaded, async) loops over this until `Done`, answering each step its own way.
    """
    try:
        return op.send(answer)
    except StopIteration as done:
        return Done(cast("T", done.value))


def before(date: dt.date) -> Where:
    """Return the metadata filter matching records of days strictly before `date`."""
    # cast: mypy cannot pick the operator member of chroma's `Where` union from a dict literal.
    return cast("Where", {"day": {"$lt": day_number(date)}})


def embed(embedder: Embedder, cache: DayVectors | None, step: Embed) -> np.ndarray:
    """Return the (n, dim) float32 vectors of `step`'s texts, through `cache` for a dated step. Blocking."""

    def fresh(texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        vectors = embedder.embed(texts)
        if len(vectors) != len(texts) or any(len(v) != embedder.dim for v in vectors):
            raise MemoryStoreError(
                f"embedder {embedder.name!r} returned {len(vectors)} vectors of dims "
                f"{sorted({len(v) for v in vectors})}, expected {len(texts)} of dim {embedder.dim}"
            )
        return np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)

    if cache is None or step.date is None:
        return fresh(step.texts)
    return cache.embed(step.date, step.texts, fresh)


def featured_before(ids: Sequence[str], date: dt.date) -> Op[list[Exclusion]]:
    """Return those canonical ids already featured on a day before `date`, in input order."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    got = yield Call("get", "get", {"ids": wanted, "where": before(date), "include": ["metadatas"]})
    on = {i: featured_date(i, m) for i, m in zip(got["ids"], got["metadatas"] or [], strict=True)}
    return [Exclusion(arxiv_id=i, featured_on=on[i]) for i in wanted if i in on]


def near_duplicates(papers: Sequence[Paper], date: dt.date, threshold: float, k: int) -> Op[list[MemoryFlag]]:
    """Flag candidates whose title+abstract is close to a paper featured before `date` (see
    `MemoryStore.near_duplicates`); embeds nothing when no earlier day is remembered."""
    earlier = before(date)
    if not papers:
        return []
    probe = yield Call("get", "get", {"where": earlier, "limit": 1, "include": []})
    if not probe["ids"]:
        return []
    vectors = yield Embed(tuple(record_text(p.title, p.abstract) for p in papers), date)
    # k + 1 because the paper itself may be stored under its own id; that hit is dropped.
    res = yield Call(
        "query",
        "query",
        {
            "query_embeddings": vectors,
            "n_results": k + 1,
            "where": earlier,
            "include": ["metadatas", "distances"],
        },
    )
    flags: list[MemoryFlag] = []
    rows = zip(papers, res["ids"], res["metadatas"] or [], res["distances"] or [], strict=True)
    for paper, found, metas, dists in rows:
        hits = [(i, m, 1.0 - d) for i, m, d in zip(found, metas, dists, strict=True) if i != paper.arxiv_id]
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


def remember(date: dt.date, featured: Sequence[FeaturedPaper]) -> Op[int]:
    """Make `featured` the records of `date`, replacing that date's old ones (see `MemoryStore.remember`)."""
    ids = [p.arxiv_id for p in featured]
    if len(set(ids)) != len(ids):
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        raise MemoryStoreError(f"remember({date}): repeated ids {repeated}")
    other = sorted({p.date for p in featured if p.date != date})
    if other:
        raise MemoryStoreError(f"remember({date}): papers dated {[d.isoformat() for d in other]}")
    earlier: set[str] = set()
    if ids:
        got = yield Call("get", "get", {"ids": ids, "where": before(date), "include": []})
        earlier = set(got["ids"])
    keep = [p for p in featured if p.arxiv_id not in earlier]
    texts = [record_text(p.title, p.abstract) for p in keep]
    vectors = yield Embed(tuple(texts), date)  # before deleting: a failing embedder changes nothing
    yield Call("replace", "delete", {"where": {"day": day_number(date)}})
    if keep:
        yield Call(
            "replace",
            "upsert",
            {
                "ids": [p.arxiv_id for p in keep],
                "embeddings": vectors,
                "documents": texts,
                "metadatas": [record_metadata(p) for p in keep],
            },
        )
    return len(keep)


def records(include: builtins.list[str]) -> Op[Any]:
    """Return every record of the collection with the fields of `include`."""
    return (yield Call("get", "get", {"include": include}))


def search(text: str, k: int) -> Op[list[MemoryHit]]:
    """Return up to `k` remembered papers most similar to `text`, most similar first."""
    if (yield Call("count", "count")) == 0:
        return []
    vector = yield Embed((text,))
    res = yield Call(
        "query",
        "query",
        {"query_embeddings": vector, "n_results": k, "include": ["metadatas", "documents", "distances"]},
    )
    rows = zip(res["ids"][0], (res["metadatas"] or [[]])[0], (res["documents"] or [[]])[0], strict=True)
    dists = (res["distances"] or [[]])[0]
    return [
        MemoryHit(paper=featured_from_record(i, m, doc), similarity=max(-1.0, min(1.0, 1.0 - d)))
        for (i, m, doc), d in zip(rows, dists, strict=True)
    ]


def forget(arxiv_id: str) -> Op[bool]:
    """Delete the record of one paper (any id form); return whether it existed."""
    try:
        key = canonical_id(arxiv_id)
    except ValueError:
        return False  # something that is no arXiv id was never remembered
    got = yield Call("delete", "get", {"ids": [key], "include": []})
    if not got["ids"]:
        return False
    yield Call("delete", "delete", {"ids": [key]})
    return True
