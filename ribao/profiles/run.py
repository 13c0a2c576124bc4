"""One profile in a run: its relevance (computed once per candidate set) and how it blends into the order."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ribao.profiles.relevance import Relevance, score_candidates
from ribao.profiles.resolve import ResolvedProfile
from ribao.schemas import Paper

if TYPE_CHECKING:
    from ribao.memory.embedders import Embedder
    from ribao.memory.vectors import DayVectors


# Scoring threads of their own: a run waiting on the day's vector lock holds its thread for as long as
# another run embeds, and in asyncio's default pool (6 threads on 2 cores) a worker's waiting runs would
# hold the threads its other runs need for their run-log writes and sync nodes.
_SCORING = ThreadPoolExecutor(max_workers=16, thread_name_prefix="relevance")


def triage_quality(score: int) -> float:
    """Map a triage score in [1, 10] onto [0, 1]."""
    return (score - 1) / 9


def rubric_quality(total: int) -> float:
    """Map a rubric total (novelty + impact + rigor, each 1–5) onto [0, 1]."""
    return (total - 3) / 12


@dataclass
class RunProfile:
    """The reader a run writes for: the resolved profile, the embedder, the relevance already computed."""

    profile: ResolvedProfile
    embedder: Embedder
    vectors: DayVectors | None = None
    _scores: dict[str, Relevance] = field(default_factory=dict, repr=False)
    _started: Future[dict[str, Relevance]] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """The profile's name."""
        return self.profile.name

    @property
    def weight(self) -> float:
        """Share of relevance in the blended order (`relevance_weight`)."""
        return self.profile.settings.relevance_weight

    @property
    def floor(self) -> float:
        """Least relevance a paper needs to be picked."""
        return self.profile.settings.floor

    def relevance(self, papers: Sequence[Paper]) -> dict[str, Relevance]:
        """Return the relevance of `papers` by id; each paper is scored once per run (a paper's relevance
        does not depend on the other candidates). {} for a profile without signals."""
        missing = [p for p in papers if p.arxiv_id not in self._scores]
        if missing:
            day = missing[0].announced
            embedder = _DayCached(self.embedder, self.vectors, day) if self.vectors and day else self.embedder
            self._scores.update(score_candidates(self.profile, missing, embedder))
        return {p.arxiv_id: self._scores[p.arxiv_id] for p in papers if p.arxiv_id in self._scores}

    def start(self, papers: Sequence[Paper]) -> None:
        """Begin scoring `papers` in a scoring thread now; the next `prepare` waits for it to end.

        A run starts the day's candidates as soon as they are known, so the embedding (and the wait for
        the day's vectors) overlaps the triage requests instead of following them.
        """
        if self._started is None and any(p.arxiv_id not in self._scores for p in papers):
            self._started = _SCORING.submit(self.relevance, list(papers))

    async def prepare(self, papers: Sequence[Paper]) -> None:
        """Score the unscored `papers` in a worker thread, so a node's later `relevance` calls only read.

        Scoring embeds (MiniLM: seconds of CPU for a day's hundreds of papers) and may wait on the day's
        vector lock while another run embeds; on the event loop either would stall every job of a worker.
        """
        started, self._started = self._started, None
        if started is not None:  # never two scorings at once: both would write `_scores`
            await asyncio.wrap_future(started)
        if any(p.arxiv_id not in self._scores for p in papers):
            await asyncio.get_running_loop().run_in_executor(_SCORING, self.relevance, papers)

    def blend(self, quality: float, relevance: Relevance | None) -> float:
        """Return `(1 - weight) × quality + weight × relevance` (quality alone without a relevance)."""
        if relevance is None:
            return quality
        return (1 - self.weight) * quality + self.weight * relevance.score

    def passes(self, relevance: Relevance | None) -> bool:
        """Whether a paper may be picked: its relevance reaches the floor (no relevance: always)."""
        return relevance is None or relevance.score >= self.floor

    def prompt_view(self) -> dict[str, Any]:
        """Return what the screener's and the critic's prompts show of the reader."""
        s = self.profile.settings
        return {
            "name": self.name,
            "interests": s.interests.strip(),
            "keywords": list(self.profile.keywords),
            "authors": list(s.authors),
            "avoid": list(s.avoid),
        }


class _DayCached:
    """The embedder through the day's vector cache: the candidates recall already embedded, and the ones
    a re-run or resume embedded before, are read back instead of embedded again."""

    def __init__(self, embedder: Embedder, vectors: DayVectors, day: dt.date) -> None:
        self.name, self.dim = embedder.name, embedder.dim
        self._embedder, self._vectors, self._day = embedder, vectors, day

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Return one unit vector per text, embedding only those not cached for the day."""
        vectors = self._vectors.embed(self._day, texts, lambda t: np.asarray(self._embedder.embed(t)))
        return vectors.tolist()  # type: ignore[no-any-return]


def relevance_view(relevance: Mapping[str, Relevance], arxiv_id: str) -> dict[str, Any]:
    """Return the prompt fields of one candidate's relevance (None values without a profile)."""
    r = relevance.get(arxiv_id)
    return {
        "relevance": None if r is None else round(r.score, 2),
        "evidence": None if r is None else r.evidence,
    }
