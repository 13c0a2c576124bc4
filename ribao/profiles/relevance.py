"""How much each candidate means to one reader, in [0, 1], with the paper that says why.

The rule (README "Reader profiles", numbers here, once):

- explicit = the best cosine of the candidate (title + abstract, MiniLM) to the interests (the keywords
  joined and each keyword) or to a seed or library paper; a library paper's cosine is scaled by its
  recency, from 1.0 (newest added) down towards 0.6: `0.6 + 0.4 / (1 + log10(rank + 1))`.
- base = explicit mapped linearly from [`LOW`, `HIGH`] onto [0, 1] and clipped.
- feedback = `FEEDBACK_CAP` × (liked part − disliked part), each part the best recency-scaled cosine to a
  liked (disliked) paper mapped the same way: it moves a score by at most ±`FEEDBACK_CAP`, so learned
  taste never outweighs what the reader wrote down.
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

LOW, HIGH = 0.15, 0.60  # MiniLM cosines: unrelated abstracts sit below 0.15, same-topic ones above 0.6
FEEDBACK_CAP = 0.15
AUTHOR_BONUS = 0.20
AVOID_PENALTY = 0.30
AVOID_FROM = 0.30  # a topic nearer than this cosine starts to push a paper down
REASON_FROM = 0.40  # cosine from which a paper or an interest is named as a reason
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


def _scale(cosine: np.ndarray) -> np.ndarray:
    return np.clip((cosine - LOW) / (HIGH - LOW), 0.0, 1.0)


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


def score_candidates(
    profile: ResolvedProfile, papers: Sequence[Paper], embedder: Embedder
) -> dict[str, Relevance]:
    """Return the relevance of each paper to `profile` by arXiv id; {} for a profile without signals."""
    if not papers or not profile.has_signals:
        return {}
    s = profile.settings
    cand = _embed(embedder, [record_text(p.title, p.abstract) for p in papers])
    terms = list(profile.keywords) or ([s.interests.strip()] if s.interests.strip() else [])
    interest_texts = ([", ".join(terms)] if len(terms) > 1 else []) + terms
    interest = _embed(embedder, interest_texts)
    kinds: list[tuple[Source, list[ProfilePaper]]] = [
        ("seed", profile.seeds),
        ("library", profile.library),
        ("liked", profile.liked),
    ]
    anchors = {
        kind: _Anchors(
            kind,
            list(ps),
            _embed(embedder, [record_text(p.title, p.abstract) for p in ps]),
            recency_weights(ps),
        )
        for kind, ps in kinds
    }
    disliked = _Anchors(
        "liked",
        list(profile.disliked),
        _embed(embedder, [record_text(p.title, p.abstract) for p in profile.disliked]),
        recency_weights(profile.disliked),
    )
    avoid = _embed(embedder, s.avoid)
    follow = {_norm(a): a for a in s.authors}

    n = len(papers)
    interest_sims = cand @ interest.T if len(interest_texts) else np.full((n, 1), -1.0)
    interest_best = interest_sims.max(axis=1)
    best = {kind: _best(a, cand) for kind, a in anchors.items()}
    explicit = np.maximum(interest_best, np.maximum(best["seed"][0], best["library"][0]))
    liked_part = _scale(best["liked"][0]) if profile.liked else np.zeros(n)
    disliked_part = _scale(_best(disliked, cand)[0]) if profile.disliked else np.zeros(n)
    feedback = FEEDBACK_CAP * (liked_part - disliked_part)
    avoid_sims = cand @ avoid.T if s.avoid else np.zeros((n, 0))

    out: dict[str, Relevance] = {}
    for i, paper in enumerate(papers):
        reasons: list[str] = []
        near = [
            (float(best[k][0][i]), k, anchors[k].papers[int(best[k][1][i])])
            for k in best
            if anchors[k].papers
        ]
        nearest = max(near, key=lambda t: t[0]) if near else None
        if nearest and nearest[0] >= REASON_FROM:
            reasons.append(_REASON[nearest[1]].format(nearest[2].title))
        if terms and interest_best[i] >= REASON_FROM:
            j = int(interest_sims[i].argmax())
            reasons.append(f"符合你的兴趣：{interest_texts[j]}")
        bonus = 0.0
        followed = [follow[k] for k in (_norm(a) for a in paper.authors) if k in follow]
        if followed:
            bonus += AUTHOR_BONUS
            reasons.append(f"你关注的作者 {followed[0]}")
        penalty = 0.0
        text = f"{paper.title} {paper.abstract}".lower()
        for j, topic in enumerate(s.avoid):
            hit = re.search(rf"\b{re.escape(topic.lower())}\b", text) is not None
            near_topic = AVOID_PENALTY * float(
                np.clip((avoid_sims[i, j] - AVOID_FROM) / (HIGH - AVOID_FROM), 0, 1)
            )
            cut = AVOID_PENALTY if hit else near_topic
            if cut > penalty:
                penalty = cut
            if cut >= AVOID_PENALTY / 2:
                reasons.append(f"涉及你回避的「{topic}」")
        score = float(np.clip(_scale(explicit[i]) + feedback[i] + bonus - penalty, 0.0, 1.0))
        out[paper.arxiv_id] = Relevance(round(score, 4), _label(nearest[2]) if nearest else None, reasons)
    return out
