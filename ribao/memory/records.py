"""Map featured papers to Chroma records and back: ids, documents, metadata and day numbers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from ribao.errors import MemoryStoreError
from ribao.schemas import FeaturedPaper

_SEPARATOR = "\n\n"


class MemoryHit(BaseModel):
    """A remembered paper found by `MemoryStore.search`, with its similarity to the query."""

    paper: FeaturedPaper
    similarity: float = Field(description="Cosine similarity of the two embeddings, in [-1, 1]")


class MemoryStats(BaseModel):
    """What the memory holds: record count, the days remembered and the embedder that built it."""

    location: str = Field(description="Folder of the persistent store, or the server URL")
    collection: str
    count: int = Field(description="Number of remembered papers (one record per canonical id)")
    dates: list[dt.date] = Field(description="Announcement days with at least one record, ascending")
    embedder: str
    dim: int


def day_number(date: dt.date) -> int:
    """Return the date as an int ``yyyymmdd``.

    Chroma 1.5 accepts `$lt`/`$gt` only on numbers ("Expected operand value to be an int or a
    float"), so each record carries this next to the ISO string for range filters.
    """
    return date.year * 10000 + date.month * 100 + date.day


def record_text(title: str, abstract: str) -> str:
    """Return the text that is embedded and stored as the record's document: title, blank line, abstract."""
    return f"{title.strip()}{_SEPARATOR}{abstract.strip()}"


def record_metadata(paper: FeaturedPaper) -> dict[str, str | int]:
    """Return the Chroma metadata of one featured paper (date as ISO string and as `day` int)."""
    return {
        "date": paper.date.isoformat(),
        "day": day_number(paper.date),
        "title": paper.title.strip(),
        "tier": paper.tier,
        "rank": paper.rank,
        "run_id": paper.run_id,
    }


def featured_date(arxiv_id: str, metadata: Mapping[str, Any] | None) -> dt.date:
    """Return the ISO `date` of a record's metadata; raise `MemoryStoreError` if it is missing or bad."""
    raw = (metadata or {}).get("date")
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError as exc:
        raise MemoryStoreError(f"memory record {arxiv_id} has date {raw!r}, expected an ISO date") from exc


def featured_from_record(
    arxiv_id: str, metadata: Mapping[str, Any] | None, document: str | None
) -> FeaturedPaper:
    """Rebuild a `FeaturedPaper` from a stored record (the abstract is the document minus the title)."""
    meta = metadata or {}
    title = str(meta.get("title", ""))
    doc = document or ""
    abstract = doc[len(title) + len(_SEPARATOR) :] if doc.startswith(title + _SEPARATOR) else doc
    return FeaturedPaper(
        arxiv_id=arxiv_id,
        title=title,
        abstract=abstract,
        date=featured_date(arxiv_id, meta),
        tier=str(meta.get("tier", "")),
        rank=int(meta.get("rank", 0)),
        run_id=str(meta.get("run_id", "")),
    )
