"""The graph's non-agent nodes: read the listing, consult the memory, remember the digest."""

from __future__ import annotations

import asyncio
from typing import Any

from langgraph.runtime import Runtime

from ribao.context import RunContext
from ribao.schemas import FeaturedPaper
from ribao.state import DigestState, screened


async def fetch_listing(state: DigestState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Read the announcement day's listing; returns `date`, `candidates` (canonical ids) and its source.

    Raises `NoAnnouncement` for a day without a listing and `ListingError`/`ListingUnavailable`
    for a source that cannot be read.
    """
    listing = runtime.context.read_listing(state.get("requested_date"))
    return {"date": listing.date, "candidates": listing.papers, "listing_source": listing.source}


async def recall_memory(state: DigestState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Exclude papers featured on another day and flag near-duplicates of past featured papers."""
    memory = runtime.context.memory
    if memory is None:
        return {"excluded": [], "memory_flags": []}
    candidates = state["candidates"]
    excluded = memory.featured_before([p.arxiv_id for p in candidates], state["date"])
    gone = {e.arxiv_id for e in excluded}
    flags = memory.near_duplicates(
        [p for p in candidates if p.arxiv_id not in gone],
        state["date"],
        threshold=runtime.context.settings.memory.near_duplicate_threshold,
    )
    return {"excluded": excluded, "memory_flags": flags}


async def fetch_fulltext(state: DigestState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Read the full text of the settled must-reads (notables too with `fulltext.notables`); returns
    `fulltexts` keyed by arXiv id. Never of unpicked candidates; every fallback is a trace line."""
    ctx = runtime.context
    options = ctx.settings.fulltext
    if not options.enabled or ctx.fulltext is None:
        return {"fulltexts": {}}
    reader = ctx.fulltext(state["date"])
    papers = {p.arxiv_id: p for p in state["candidates"]}
    wanted = [p for p in state["picks"] if p.tier == "must_read" or options.notables]
    texts = {}
    for pick in sorted(wanted, key=lambda p: p.rank):
        lines: list[str] = []
        # Blocking I/O (HTTP, the extraction subprocess) stays off the event loop.
        texts[pick.arxiv_id] = await asyncio.to_thread(reader.read, papers[pick.arxiv_id], lines.append)
        for line in lines:
            runtime.stream_writer({"node": "fetch_fulltext", "message": line})
    return {"fulltexts": texts}


async def remember_digest(state: DigestState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Store the featured papers under the digest's date (replacing that date), after the files exist."""
    memory = runtime.context.memory
    if memory is None:
        return {"remembered": 0}
    papers = {p.arxiv_id: p for p in screened(state)}
    featured = [
        FeaturedPaper(
            arxiv_id=p.arxiv_id,
            title=papers[p.arxiv_id].title,
            abstract=papers[p.arxiv_id].abstract,
            date=state["date"],
            tier=p.tier,
            rank=p.rank,
            run_id=runtime.context.run_id,
        )
        for p in state["picks"]
    ]
    memory.remember(state["date"], featured)
    return {"remembered": len(featured)}
