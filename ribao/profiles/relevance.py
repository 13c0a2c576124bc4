"""How much each candidate means to one reader, in [0, 1], with the paper that says why.

The rule (README "Reader profiles", numbers here, once):

- Cosines of the candidate's title + abstract (MiniLM) are mapped linearly onto [0, 1] and clipped:
  to the interests (the keywords joined, and each keyword) from `INTEREST_RANGE`, to a paper from
  `PAPER_RANGE` (two ML abstracts share much vocabulary: their cosines run higher). A library or
  liked paper's cosine is first scaled by its recency, from 1.0 (newest) down towards 0.6:
  `0.6 + 0.4 / (1 + log10(rank + 1))`.
- base = the best of the interests' and the seed and library papers' mapped values.
- feedback = `FEEDBACK_CAP` × (liked part − disliked part), each part the mapped best cosine to a liked
  (disliked) paper: it moves a score by at most ±`FEEDBACK_CAP`, so learned taste never outweighs
  what the reader wrote down.
- a followed author adds `AUTHOR_BONUS`; an `avoid` topic subtracts up to `AVOID_PENALTY` (all of it when
  its words occur in the title or abstract, else in proportion to how near the paper is to the topic).
- score = clip(base + feedback + author − avoid, 0, 1).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from ribao.memory.records import record_text
from ribao.profiles.resolve import ProfilePaper, ResolvedProfile
from ribao.schemas import Paper

if TYPE_CHECKING:
    from ribao.memory.embedders import Embedder

# MiniLM cosines on the bundled 2026-02-18 day (180 papers): a keyword to a paper, median 0.20 and 0.47
# for the best-matching robotics papers; an abstract to a seed abstract, median 0.34, same field 0.5-0.65.
INTEREST_RANGE = (0.15, 0.45)
PAPER_RANGE = (0.30, 0.65)
FEEDBACK_CAP = 0.15
AUTHOR_BONUS = 0.20
AVOID_PENALTY = 0.30
REASON_FROM = 0.6  # mapped value from which a paper or an interest is named as a reason
Source = Literal["seed", "library", "liked"]
_REASON = {
    "seed": "与你的种子论文《{}》相近",
    "library": "与你收藏的《{}》相近",
    "liked": "与你点赞过的《{}》相近",
}


@dataclass(frozen=True)
class Relevance:
    """One candidate's relevance to one profile.

    `score` is in [0, 1]; `evidence` names the nearest seed, library or liked paper (title and id);
    `reasons` are short Chinese phrases shown to the reader ("与你收藏的《X》相近", "你关注的作者 Y").
    """

    score: float
    evidence: str | None = None
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Anchors:
    """Reference papers of one kind with their unit vectors and recency factors."""

    kind: Source
    papers: list[ProfilePaper]
    vectors: np.ndarray
    weights: np.ndarray


def recency_weights(papers: Sequence[ProfilePaper]) -> np.ndarray:
    """Return each paper's factor: 1.0 for the newest, `0.6 + 0.4 / (1 + log10(rank + 1))` by date rank."""
    order = sorted(range(len(papers)), key=lambda i: papers[i].date or dt.date.min, reverse=True)
    weights = np.ones(len(papers), dtype=np.float32)
    if all(p.date is None for p in papers):
        return weights  # seeds and undated items: all alike
    for rank, i in enumerate(order):
        weights[i] = 0.6 + 0.4 / (1.0 + math.log10(rank + 1))
    return weights


def _scale(cosine: np.ndarray, span: tuple[float, float]) -> np.ndarray:
    low, high = span
    return np.clip((cosine - low) / (high - low), 0.0, 1.0)


def _embed(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.asarray(embedder.embed(list(texts)), dtype=np.float32)


def _norm(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return " ".join(re.findall(r"[a-z]+", plain.lower()))


def _label(paper: ProfilePaper) -> str:
    return f"{paper.title} ({paper.arxiv_id})" if paper.arxiv_id else paper.title


def _best(anchors: _Anchors, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return, per candidate, the best recency-scaled cosine to `anchors` and that anchor's index."""
    if not anchors.papers:
        n = cand.shape[0]
        return np.full(n, -1.0, dtype=np.float32), np.zeros(n, dtype=int)
    sims = (cand @ anchors.vectors.T) * anchors.weights
    idx = sims.argmax(axis=1)
    return sims[np.arange(cand.shape[0]), idx], idx


def _anchors(kind: Source, papers: Sequence[ProfilePaper], embedder: Embedder) -> _Anchors:
    vectors = _embed(embedder, [record_text(p.title, p.abstract) for p in papers])
    return _Anchors(kind, list(papers), vectors, recency_weights(papers))


def _avoid_cut(paper: Paper, topics: Sequence[str], sims: np.ndarray) -> tuple[float, list[str]]:
    """Return the largest `avoid` penalty of one paper and the reasons naming the topics that cost it."""
    text = f"{paper.title} {paper.abstract}".lower()
    cut, reasons = 0.0, []
    for j, topic in enumerate(topics):
        literal = re.search(rf"\b{re.escape(topic.lower())}\b", text) is not None
        this = AVOID_PENALTY if literal else AVOID_PENALTY * float(_scale(sims[j], INTEREST_RANGE))
        cut = max(cut, this)
        if this >= AVOID_PENALTY / 2:
            reasons.append(f"涉及你回避的「{topic}」")
    return cut, reasons


def score_candidates(
    profile: ResolvedProfile, papers: Sequence[Paper], embedder: Embedder
) -> dict[str, Relevance]:
    """Return the relevance of each paper to `profile` by arXiv id; {} for a profile without signals."""
    if not papers or not profile.has_signals:
        return {}
    s = profile.settings
    n = len(papers)
    cand = _embed(embedder, [record_text(p.title, p.abstract) for p in papers])
    terms = list(profile.keywords) or ([s.interests.strip()] if s.interests.strip() else [])
    texts = ([", ".join(terms)] if len(terms) > 1 else []) + terms
    interest_sims = cand @ _embed(embedder, texts).T if texts else np.zeros((n, 0))
    interest = _scale(interest_sims.max(axis=1), INTEREST_RANGE) if texts else np.zeros(n)
    kinds: list[tuple[Source, list[ProfilePaper]]] = [
        ("seed", profile.seeds),
        ("library", profile.library),
        ("liked", profile.liked),
    ]
    anchors = {kind: _anchors(kind, ps, embedder) for kind, ps in kinds}
    best = {kind: _best(a, cand) for kind, a in anchors.items() if a.papers}
    mapped = {kind: _scale(b[0], PAPER_RANGE) for kind, b in best.items()}
    base = np.maximum.reduce([interest, mapped.get("seed", interest), mapped.get("library", interest)])
    liked = mapped.get("liked", np.zeros(n))
    disliked = (
        _scale(_best(_anchors("liked", profile.disliked, embedder), cand)[0], PAPER_RANGE)
        if profile.disliked
        else np.zeros(n)
    )
    feedback = FEEDBACK_CAP * (liked - disliked)
    avoid_sims = cand @ _embed(embedder, s.avoid).T if s.avoid else np.zeros((n, 0))
    follow = {_norm(a): a for a in s.authors}

    out: dict[str, Relevance] = {}
    for i, paper in enumerate(papers):
        reasons: list[str] = []
        near = [(float(mapped[k][i]), k, anchors[k].papers[int(best[k][1][i])]) for k in best]
        nearest = max(near, key=lambda t: t[0]) if near else None
        if nearest and nearest[0] >= REASON_FROM:
            reasons.append(_REASON[nearest[1]].format(nearest[2].title))
        if terms and interest[i] >= REASON_FROM:
            # Name the single keyword nearest the paper, not the joined list.
            j = int(interest_sims[i, -len(terms) :].argmax())
            reasons.append(f"符合你的兴趣：{terms[j]}")
        followed = [follow[k] for k in (_norm(a) for a in paper.authors) if k in follow]
        bonus = AUTHOR_BONUS if followed else 0.0
        if followed:
            reasons.append(f"你关注的作者 {followed[0]}")
        cut, avoided = _avoid_cut(paper, s.avoid, avoid_sims[i])
        reasons += avoided
        score = float(np.clip(base[i] + feedback[i] + bonus - cut, 0.0, 1.0))
        out[paper.arxiv_id] = Relevance(round(score, 4), _label(nearest[2]) if nearest else None, reasons)
    return out
