"""The graph's state, declared once; reducers only where a key accumulates."""

from __future__ import annotations

import datetime as dt
import operator
from typing import Annotated, NotRequired, TypedDict

from ribao.calls import LLMCall
from ribao.schemas import (
    Critique,
    DeliveryRecord,
    Exclusion,
    MemoryFlag,
    Paper,
    PaperText,
    Pick,
    Ranked,
    ReaderCut,
    Shortlisted,
    Summary,
)


def merge_summaries(left: dict[str, Summary], right: dict[str, Summary]) -> dict[str, Summary]:
    """Merge per-paper summaries from parallel writer tasks (keyed by canonical arXiv id)."""
    return {**left, **right}


def merge_scores(left: dict[str, int], right: dict[str, int]) -> dict[str, int]:
    """Merge triage scores from parallel batch tasks (keyed by canonical arXiv id, sorted by id so the
    state is the same whatever order the batches finished in)."""
    return dict(sorted({**left, **right}.items()))


class RunInput(TypedDict):
    """What a run starts from: the requested day (None = the listing's own) and the critic cap."""

    requested_date: dt.date | None
    max_critic_rounds: int


class DigestState(RunInput, total=False):
    """Everything the nodes write, each key owned by one node (see DESIGN.md)."""

    # fetch_listing
    date: dt.date
    candidates: list[Paper]
    listing_origin: str
    # recall_memory
    excluded: list[Exclusion]
    # triage_batch (one task per batch, in parallel)
    triage_scores: Annotated[dict[str, int], merge_scores]
    # flag_near_duplicates (before each screening round: the candidates then shown)
    memory_flags: list[MemoryFlag]
    # rank_papers (each screening round)
    ranking: list[Ranked]
    shortlist: list[Shortlisted]
    reader_cut: ReaderCut | None
    screen_rounds: int
    # write_reasons (each screening round: the ranking with its reasons)
    picks: list[Pick]
    # critique_picks
    critiques: Annotated[list[Critique], operator.add]
    critic_rounds: int
    # fetch_fulltext (keyed by canonical arXiv id; only the picks whose full text was sought)
    fulltexts: dict[str, PaperText]
    # write_summary (one task per pick, in parallel)
    summaries: Annotated[dict[str, Summary], merge_summaries]
    # write_lead
    lead: str | None
    # fetch_stars
    stars: dict[str, int | None]
    # write_digest
    digest_path: str
    json_path: str
    # remember_digest
    remembered: int
    # deliver
    deliveries: list[DeliveryRecord]
    # every agent
    llm_calls: Annotated[list[LLMCall], operator.add]


class TriageTask(TypedDict):
    """The input of one `triage_batch` task: batch n of count, its papers in listing order."""

    batch_index: int
    batch_count: int
    papers: list[Paper]


class WriterTask(TypedDict):
    """The input of one `write_summary` task, sent per pick."""

    pick: Pick
    paper: Paper
    fulltext: NotRequired[PaperText | None]


def eligible(state: DigestState) -> list[Paper]:
    """Return the eligible candidates: the listing minus papers featured on earlier days (the screener's
    input, the "screened" count of the digest)."""
    gone = {e.arxiv_id for e in state.get("excluded", [])}
    return [p for p in state.get("candidates", []) if p.arxiv_id not in gone]
