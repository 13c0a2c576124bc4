"""The metrics of one run, pure: each is a `Tally` of per-unit parts, its value Σnum / Σden.

Units are papers (cost: the run), so two versions of the same days can be compared paper by
paper (`ribao.evals.compare` resamples the units). README "Measuring picks" defines each metric.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from ribao.agents.guards import quoted_numbers, unsupported_numbers
from ribao.evals.outputs import RunOutputs
from ribao.runs.rows import AgentUsage, CallRow

#: The fields a must-read summary must fill; a notable one fills `one_line`.
MUST_READ_FIELDS = ("title_zh", "background", "innovation", "details", "results")
NOTABLE_FIELDS = ("one_line",)
ALL_FIELDS = (*MUST_READ_FIELDS, *NOTABLE_FIELDS)

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


@dataclass(frozen=True)
class Tally:
    """One metric of one run as parts: unit → (numerator, denominator).

    A ``ratio`` is Σnum / Σden (None when Σden is 0); a ``count`` is Σnum per day (den unused).
    """

    parts: dict[str, tuple[float, float]]
    kind: Literal["ratio", "count"] = "ratio"

    def value(self, days: int = 1) -> float | None:
        """Return the metric's value over `days` days of parts."""
        num = sum(n for n, _ in self.parts.values())
        if self.kind == "count":
            return num / days if days else None
        den = sum(d for _, d in self.parts.values())
        return num / den if den else None


@dataclass(frozen=True)
class Reference:
    """A reference judgement of one day: relevance gain per paper (> 0 is relevant), and for a
    profile the papers the reader liked and disliked. `source` says where it came from."""

    gains: Mapping[str, float]
    source: str = ""
    liked: frozenset[str] = frozenset()
    disliked: frozenset[str] = frozenset()


def upvote_gain(upvotes: int) -> float:
    """Return the gain of a paper featured with `upvotes`: log2(2 + upvotes) (featured with 0 gives 1)."""
    return math.log2(2 + max(upvotes, 0))


def day_ranking(out: RunOutputs) -> list[str]:
    """Rank the whole day: picks in rank order, then the rest of the shortlist in shortlist order,
    then every other candidate by triage score (highest first, unscored last), ties by arXiv id."""
    picked = [p.arxiv_id for p in sorted(out.picks, key=lambda p: p.rank)]
    seen = set(picked)
    listed = [pid for pid in out.shortlist if pid not in seen]
    seen.update(listed)
    rest = sorted(
        (pid for pid in out.candidates if pid not in seen),
        key=lambda pid: (-out.triage_scores.get(pid, 0), pid),
    )
    return picked + listed + rest


def _relevant(out: RunOutputs, ref: Reference) -> list[str]:
    """Return the referenced papers among the day's candidates (the others are ignored)."""
    ids = set(out.candidates) | {p.arxiv_id for p in out.picks}
    return sorted(pid for pid, gain in ref.gains.items() if gain > 0 and pid in ids)


def pick_metrics(out: RunOutputs, ref: Reference) -> dict[str, Tally | None]:
    """Return hits@K, must_read_hits, ndcg and shortlist_survival (None without a relevant
    candidate), and liked_share (None when the reader rated no pick)."""
    relevant = _relevant(out, ref)
    picks = {p.arxiv_id for p in out.picks}
    must = {p.arxiv_id for p in out.picks if p.tier == "must_read"}
    shortlist = set(out.shortlist) | picks
    metrics: dict[str, Tally | None] = {}
    if relevant:
        metrics[f"hits@{len(out.picks)}"] = Tally(
            {pid: (float(pid in picks), 0.0) for pid in relevant}, "count"
        )
        metrics["must_read_hits"] = Tally({pid: (float(pid in must), 0.0) for pid in relevant}, "count")
        metrics["ndcg"] = ndcg(day_ranking(out), {pid: ref.gains[pid] for pid in relevant})
        metrics["shortlist_survival"] = Tally({pid: (float(pid in shortlist), 1.0) for pid in relevant})
    else:
        for name in (f"hits@{len(out.picks)}", "must_read_hits", "ndcg", "shortlist_survival"):
            metrics[name] = None
    rated = [pid for pid in picks if pid in ref.liked or pid in ref.disliked]
    metrics["liked_share"] = Tally({pid: (float(pid in ref.liked), 1.0) for pid in rated}) if rated else None
    return metrics


def ndcg(ranking: Sequence[str], gains: Mapping[str, float]) -> Tally:
    """Return nDCG of `ranking` as parts: paper p at 1-based position i adds gain/log2(i+1) to the
    numerator (DCG) and, at its position j in the ideal order (gain desc, ties by id), gain/log2(j+1)
    to the denominator (IDCG). A relevant paper missing from the ranking adds only to IDCG."""
    position = {pid: i for i, pid in enumerate(ranking, start=1)}
    ideal = sorted(gains, key=lambda pid: (-gains[pid], pid))
    parts = {}
    for j, pid in enumerate(ideal, start=1):
        i = position.get(pid)
        dcg = gains[pid] / math.log2(i + 1) if i else 0.0
        parts[pid] = (dcg, gains[pid] / math.log2(j + 1))
    return Tally(parts)


def _fields(tier: str) -> tuple[str, ...]:
    return MUST_READ_FIELDS if tier == "must_read" else NOTABLE_FIELDS


def summary_metrics(out: RunOutputs) -> dict[str, Tally | None]:
    """Return numbers_supported, fields_complete, chinese_share and length.<field> over the picks."""
    numbers: dict[str, tuple[float, float]] = {}
    complete: dict[str, tuple[float, float]] = {}
    chinese: dict[str, tuple[float, float]] = {}
    lengths: dict[str, dict[str, tuple[float, float]]] = {f: {} for f in ALL_FIELDS}
    for pick in out.picks:
        pid, wanted = pick.arxiv_id, _fields(pick.tier)
        summary = out.summaries.get(pid)
        texts = {f: (getattr(summary, f) or "").strip() for f in wanted} if summary else {}
        complete[pid] = (float(sum(1 for t in texts.values() if t)), float(len(wanted)))
        if not summary:
            continue
        text = " ".join(texts.values())
        quoted = len(quoted_numbers(text))
        if quoted:
            missing = len(unsupported_numbers(text, out.sources.get(pid, "")))
            numbers[pid] = (float(quoted - missing), float(quoted))
        han, latin = len(_HAN.findall(text)), len(_LATIN.findall(text))
        if han + latin:
            chinese[pid] = (float(han), float(han + latin))
        for field, t in texts.items():
            if t:
                lengths[field][pid] = (float(len(t)), 1.0)
    metrics: dict[str, Tally | None] = {
        "numbers_supported": Tally(numbers) if numbers else None,
        "fields_complete": Tally(complete) if complete else None,
        "chinese_share": Tally(chinese) if chinese else None,
    }
    metrics.update({f"length.{f}": Tally(parts) if parts else None for f, parts in lengths.items()})
    return metrics


COST_FIELDS = ("calls", "input_tokens", "output_tokens", "cached_tokens", "cost", "latency_s")


def cost_metrics(usage: Mapping[str, AgentUsage], calls: Sequence[CallRow]) -> dict[str, Tally | None]:
    """Return the run's calls, tokens in/out/cached, cost and summed call latency, in total and per
    agent (``screener.cost``); cost None when a price is unknown. The run is the one unit."""
    latency: dict[str, float] = {}
    for call in calls:
        latency[call.agent] = latency.get(call.agent, 0.0) + call.latency_s
    rows: dict[str, dict[str, float | None]] = {}
    for agent, u in usage.items():
        rows[agent] = {
            "calls": u.calls,
            "input_tokens": u.input_tokens,
            "output_tokens": u.output_tokens,
            "cached_tokens": u.cached_tokens,
            "cost": u.cost,
            "latency_s": latency.get(agent, 0.0),
        }
    metrics: dict[str, Tally | None] = {}
    for field in COST_FIELDS:
        values = [r[field] for r in rows.values()]
        total = None if any(v is None for v in values) else sum(v or 0.0 for v in values)
        metrics[field] = None if total is None else Tally({"run": (total, 0.0)}, "count")
        for agent, r in rows.items():
            v = r[field]
            metrics[f"{agent}.{field}"] = None if v is None else Tally({"run": (float(v), 0.0)}, "count")
    return metrics


def jaccard(a: set[str], b: set[str]) -> float:
    """Return |a ∩ b| / |a ∪ b| (1.0 for two empty sets)."""
    return len(a & b) / len(a | b) if a | b else 1.0


def pick_overlap(pick_sets: Sequence[set[str]]) -> float | None:
    """Return the mean Jaccard overlap over every pair of pick sets (None for fewer than two)."""
    pairs = [jaccard(a, b) for i, a in enumerate(pick_sets) for b in pick_sets[i + 1 :]]
    return sum(pairs) / len(pairs) if pairs else None


def spread(values: Sequence[float | None]) -> float | None:
    """Return max − min of the known values (None for fewer than two)."""
    known = [v for v in values if v is not None]
    return max(known) - min(known) if len(known) >= 2 else None
