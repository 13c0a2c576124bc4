"""The graph's non-agent nodes: read the listing, consult the memory, look up stars, remember the digest,
deliver it.

The memory nodes are async (the memory is `AsyncMemory`: a Chroma server's async client, or the
embedded store and the embedder in worker threads); the others are sync: their blocking I/O (HTTP,
`time.sleep`, MiniLM, Apprise) runs in LangGraph's thread pool, never on the event loop.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langgraph.runtime import Runtime

from ribao.agents.critic import ALTERNATES
from ribao.agents.screener import for_reader, shortlist
from ribao.agents.triage import shared_scores
from ribao.context import RunContext
from ribao.schemas import FeaturedPaper, Paper
from ribao.state import DigestState, eligible

if TYPE_CHECKING:
    from ribao.profiles.run import RunProfile
    from ribao.settings import Settings


def fetch_listing(state: DigestState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Read the announcement day's listing; returns `date`, `candidates` (canonical ids) and its source.

    Raises `NoAnnouncement` for a day without a listing and `ListingError`/`ListingUnavailable`
    for a source that cannot be read.
    """
    listing = runtime.context.read_listing(state.get("requested_date"))
    return {"date": listing.date, "candidates": listing.papers, "listing_origin": listing.origin}


async def recall_memory(state: DigestState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Exclude papers featured on another day (by canonical id: a lookup, no embedding); returns
    `excluded`, and as `triage_scores` the scores the day's other profiles already paid for (so only
    the papers none of them triaged are sent to `triage_batch`)."""
    ctx = runtime.context
    memory = ctx.memory
    ids = [p.arxiv_id for p in state["candidates"]]
    excluded = [] if memory is None else await memory.featured_before(ids, state["date"])
    gone = {e.arxiv_id for e in excluded}
    unseen = [p for p in state["candidates"] if p.arxiv_id not in gone]
    if ctx.profile is not None:  # the reader's relevance of the eligible papers, embedded during triage
        ctx.profile.start(unseen)
    if ctx.shared is None:
        return {"excluded": excluded}
    scores = await asyncio.to_thread(shared_scores, ctx, unseen)  # SQLite
    if scores:
        runtime.stream_writer({"node": "recall_memory", "message": f"{len(scores)} triage scores shared"})
    return {"excluded": excluded, "triage_scores": scores}


def shown_candidates(
    state: DigestState, settings: Settings, profile: RunProfile | None = None
) -> list[Paper]:
    """The candidates the screener or the critic can be shown in the coming round, best triage score
    first: the shortlist, and the `ALTERNATES` best-scored papers beyond it (a superset of the critic's
    alternates: the picks are not known yet). [] while a candidate lacks its triage score."""
    papers = eligible(state)
    scores = state.get("triage_scores", {})
    if not papers or any(p.arxiv_id not in scores for p in papers):
        return []  # rank_papers raises for these, with the reason
    listed = shortlist(papers, scores, state, settings, profile)
    best = for_reader(papers, scores, profile)[: len(listed) + ALTERNATES]
    return list({p.arxiv_id: p for p in [*listed, *best]}.values())


async def flag_near_duplicates(state: DigestState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Flag near-duplicates of past featured papers among the candidates the screener and the critic
    will see (`shown_candidates`: about 40 of a day's hundreds, so only those are embedded); returns
    `memory_flags`. Runs before every screening round, so a replacement the critic suggests is checked.
    """
    memory, profile = runtime.context.memory, runtime.context.profile
    if profile is not None:
        await profile.prepare(eligible(state))
    shown = shown_candidates(state, runtime.context.settings, profile)
    if memory is None or not shown:
        return {"memory_flags": []}
    threshold = runtime.context.settings.memory.near_duplicate_threshold
    return {"memory_flags": await memory.near_duplicates(shown, state["date"], threshold=threshold)}


def fetch_fulltext(state: DigestState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Read the full text of the settled must-reads (notables too with `fulltext.notables`); returns
    `fulltexts` keyed by arXiv id. Never of unpicked candidates; every fallback is a trace line.

    A sync node: LangGraph runs it in a worker thread, so the HTTP requests and the extraction
    subprocess never block the event loop.
    """
    ctx = runtime.context
    options = ctx.settings.fulltext
    if not options.enabled or ctx.fulltext is None:
        return {"fulltexts": {}}
    reader = ctx.fulltext(state["date"])
    papers = {p.arxiv_id: p for p in state["candidates"]}
    wanted = [p for p in state["picks"] if p.tier == "must_read" or options.notables]

    def say(line: str) -> None:
        runtime.stream_writer({"node": "fetch_fulltext", "message": line})

    return {
        "fulltexts": {
            p.arxiv_id: reader.read(papers[p.arxiv_id], say) for p in sorted(wanted, key=lambda p: p.rank)
        }
    }


def fetch_stars(state: DigestState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Look up GitHub stars of the picks' code links with the context's client; `stars` maps link -> count.

    Returns an empty map when stars are off (`ctx.stars` is None) or no pick has a code link; a
    link whose count is unknown maps to None and the trace says why.
    """
    client = runtime.context.stars
    papers = {p.arxiv_id: p for p in state["candidates"]}
    urls = [u for u in (papers[p.arxiv_id].code_url for p in state["picks"]) if u]
    if client is None or not urls:
        return {"stars": {}}
    result = client(urls, state["date"])
    if result.summary():
        runtime.stream_writer({"node": "fetch_stars", "message": result.summary()})
    return {"stars": result.stars}


async def remember_digest(state: DigestState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Store the featured papers under the digest's date (replacing that date), after the files exist."""
    memory = runtime.context.memory
    if memory is None:
        return {"remembered": 0}
    papers = {p.arxiv_id: p for p in eligible(state)}
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
    await memory.remember(state["date"], featured)
    return {"remembered": len(featured)}


def deliver(state: DigestState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Push the written digest to the run's channels (after the files and the memory).

    Returns `deliveries`, one record per channel; a failed channel is recorded, never raised, so
    delivery never costs the digest (the CLI turns failures into exit status 5).
    """
    from ribao.delivery.send import DigestFiles

    delivery = runtime.context.delivery
    if delivery is None:
        return {"deliveries": []}
    return {"deliveries": delivery.send(DigestFiles.read(Path(state["json_path"])))}
