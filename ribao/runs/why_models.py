"""What `ribao runs why` says of one paper in one run: its path (`PaperPath`) and each screening round."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field


class Shortlisting(BaseModel):
    """One screening round seen from one paper: the cut, its rubric, its rank, the critic's word."""

    round: int
    recorded: bool = Field(description="False when the run predates recording the shortlist")
    shortlisted: bool | None = None
    by_critic: bool = Field(default=False, description="On the shortlist as the critic's replacement")
    size: int | None = Field(default=None, description="Papers shortlisted by score this round")
    cut_score: int | None = Field(default=None, description="Triage score of the last paper to make the cut")
    rubric: dict[str, int] | None = Field(default=None, description="novelty, impact, rigor, total")
    rank: int | None = None
    tier: str | None = None
    reason: str | None = Field(default=None, description="The screener's 推荐理由")
    decision: str | None = Field(default=None, description="The critic's keep or replace")
    critic_reason: str | None = None
    replaced_by: str | None = None
    replaces: str | None = Field(default=None, description="The pick this paper was suggested to replace")
    replaces_reason: str | None = None
    reader: str | None = Field(default=None, description="The reader profile the shortlist was cut for")
    floor: float | None = Field(default=None, description="That reader's relevance floor")
    relevance: float | None = Field(default=None, description="The paper's relevance, when recorded")
    blended: float | None = Field(default=None, description="Its triage-and-relevance score (over the floor)")
    cut_blended: float | None = Field(
        default=None, description="That score of the last paper to make the cut"
    )


class PaperPath(BaseModel):
    """One paper's path through one run (what `ribao runs why --json` prints)."""

    run_id: str
    status: str
    date: dt.date | None
    arxiv_id: str
    title: str | None = None
    candidate: bool
    candidates: int = Field(description="Candidates on the run's listing")
    categories: list[str] = Field(default_factory=list)
    not_candidate: list[str] = Field(default_factory=list, description="Why not, when not a candidate")
    featured_on: dt.date | None = Field(default=None, description="Excluded: featured on this day")
    near_duplicate: dict[str, Any] | None = Field(default=None, description="The memory's flag, if any")
    triage_score: int | None = None
    triage_rank: int | None = Field(default=None, description="Rank by triage score among the eligible")
    eligible: int = Field(default=0, description="Candidates not excluded by the memory")
    batch: str | None = Field(default=None, description="The triage batch, n/count")
    rounds: list[Shortlisting] = Field(default_factory=list)
    final_tier: str | None = None
    final_rank: int | None = None
    final_known: bool = Field(default=True, description="False when the run ended before its digest")
    relevance: float | None = Field(default=None, description="Relevance to the run's reader profile")
    evidence: list[str] = Field(default_factory=list, description="Why for this reader")
