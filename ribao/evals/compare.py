"""Pool run metrics over days and repeats, and compare two versions with a paired bootstrap (pure).

A version is, per base run (a recorded day), the metric tallies of its runs: one run, or the
replays of an experiment (several with ``--repeat``). Parts of the same unit (paper) are averaged
over repeats; days are pooled by prefixing units with their base run. README "Measuring picks"
gives the regression rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ribao.evals.metrics import Tally, pick_overlap, spread

#: Metrics where more is better, and where less is (per-agent cost rows end in these names).
HIGHER = ("must_read_hits", "ndcg", "shortlist_survival", "liked_share", "numbers_supported",
          "fields_complete", "chinese_share", "pick_jaccard", "judge_faithfulness",
          "judge_preference")  # fmt: skip
# Latency and cached tokens have no direction: summed call latency follows the machine's and the
# provider's load (two runs of one prompt differ by seconds, every day the same way), and more
# cached tokens is cheaper, not worse.
LOWER = ("calls", "input_tokens", "output_tokens", "cost")
#: The metrics whose spread over repeats is reported.
STABILITY = ("must_read_hits", "ndcg", "shortlist_survival", "numbers_supported", "fields_complete")

RESAMPLES = 2000
SEED = 0

RunMetrics = Mapping[str, Tally | None]


def direction(metric: str) -> Literal["higher", "lower"] | None:
    """Return which way `metric` improves, None for descriptive ones (lengths, spreads)."""
    name = metric.rsplit(".", 1)[-1] if not metric.startswith(("length.", "spread.")) else metric
    if name.startswith("hits@") or name in HIGHER:
        return "higher"
    return "lower" if name in LOWER else None


@dataclass(frozen=True)
class Pooled:
    """One metric over a version's days: parts per unit (``base/paper``), and the days it is known on."""

    parts: dict[str, tuple[float, float]]
    kind: Literal["ratio", "count"]
    days: int

    def value(self) -> float | None:
        """Return the pooled value (a count is per day)."""
        return Tally(self.parts, self.kind).value(self.days)


def pool(version: Mapping[str, Sequence[RunMetrics]]) -> dict[str, Pooled]:
    """Pool each metric of `version` (base run → its runs' metrics) over repeats and days."""
    pooled: dict[str, dict[str, tuple[float, float]]] = {}
    kinds: dict[str, Literal["ratio", "count"]] = {}
    days: dict[str, int] = {}
    for base, runs in version.items():
        names = sorted({name for run in runs for name, t in run.items() if t is not None})
        for name in names:
            tallies = [run[name] for run in runs if run.get(name) is not None]
            units = {unit for t in tallies if t for unit in t.parts}
            parts = pooled.setdefault(name, {})
            for unit in units:
                nums = [t.parts.get(unit, (0.0, 0.0)) for t in tallies if t]
                parts[f"{base}/{unit}"] = (
                    sum(n for n, _ in nums) / len(nums),
                    sum(d for _, d in nums) / len(nums),
                )
            kinds[name] = tallies[0].kind if tallies[0] else "ratio"
            days[name] = days.get(name, 0) + 1
    return {name: Pooled(parts, kinds[name], days[name]) for name, parts in pooled.items()}


def stability(
    version: Mapping[str, Sequence[RunMetrics]], picks: Mapping[str, Sequence[set[str]]]
) -> dict[str, float]:
    """Return, for bases with two or more runs, the mean pick-set overlap (``pick_jaccard``) and the
    mean spread (max − min over repeats) of each `STABILITY` metric; empty without repeats."""
    out: dict[str, list[float]] = {}
    for base, runs in version.items():
        if len(runs) < 2:
            continue
        overlap = pick_overlap(list(picks.get(base, [])))
        if overlap is not None:
            out.setdefault("pick_jaccard", []).append(overlap)
        for name in STABILITY:
            tallies = [run.get(name) for run in runs]
            s = spread([t.value() if t else None for t in tallies])
            if s is not None:
                out.setdefault(f"spread.{name}", []).append(s)
    return {name: sum(v) / len(v) for name, v in out.items()}


def paired_interval(
    base: Pooled, new: Pooled, *, resamples: int = RESAMPLES, seed: int = SEED
) -> tuple[float, float] | None:
    """Return the 95% percentile interval of new − base by resampling the units both share (with
    replacement, seeded); None with fewer than two units or when most resamples are undefined."""
    units = sorted(set(base.parts) | set(new.parts))
    if len(units) < 2:
        return None
    b = np.array([base.parts.get(u, (0.0, 0.0)) for u in units])
    n = np.array([new.parts.get(u, (0.0, 0.0)) for u in units])
    idx = np.random.default_rng(seed).integers(0, len(units), size=(resamples, len(units)))
    bn, bd, nn, nd = b[:, 0][idx].sum(1), b[:, 1][idx].sum(1), n[:, 0][idx].sum(1), n[:, 1][idx].sum(1)
    if base.kind == "count":
        diff = nn / max(new.days, 1) - bn / max(base.days, 1)
    else:
        ok = (bd > 0) & (nd > 0)
        if ok.sum() < resamples / 2:
            return None
        diff = nn[ok] / nd[ok] - bn[ok] / bd[ok]
    lo, hi = np.percentile(diff, [2.5, 97.5])
    return float(lo), float(hi)


@dataclass
class Row:
    """One metric compared: both values, new − base, the paired interval and whether it regressed."""

    metric: str
    base: float | None
    new: float | None
    delta: float | None
    interval: tuple[float, float] | None = None
    regression: bool = False
    better: str | None = None
    units: int = 0


@dataclass
class Comparison:
    """The table of `compare`, and the base runs it was computed over."""

    rows: list[Row] = field(default_factory=list)
    days: list[str] = field(default_factory=list)

    @property
    def regressions(self) -> list[Row]:
        """Return the rows marked as regressions."""
        return [r for r in self.rows if r.regression]


def is_regression(better: str | None, interval: tuple[float, float] | None) -> bool:
    """The rule: the paired interval excludes 0 on the bad side of a metric with a direction."""
    if interval is None or better is None:
        return False
    lo, hi = interval
    return hi < 0 if better == "higher" else lo > 0


def compare(
    base: Mapping[str, Sequence[RunMetrics]],
    new: Mapping[str, Sequence[RunMetrics]],
    *,
    base_picks: Mapping[str, Sequence[set[str]]] | None = None,
    new_picks: Mapping[str, Sequence[set[str]]] | None = None,
) -> Comparison:
    """Compare two versions over the base runs they share (the others are left out)."""
    days = sorted(set(base) & set(new))
    a, b = pool({d: base[d] for d in days}), pool({d: new[d] for d in days})
    rows = []
    for name in sorted(set(a) | set(b), key=_order):
        pa, pb = a.get(name), b.get(name)
        va, vb = pa.value() if pa else None, pb.value() if pb else None
        interval = paired_interval(pa, pb) if pa and pb else None
        better = direction(name)
        delta = None if va is None or vb is None else vb - va
        units = len(set(pa.parts if pa else {}) | set(pb.parts if pb else {}))
        rows.append(Row(name, va, vb, delta, interval, is_regression(better, interval), better, units))
    sa = stability({d: base[d] for d in days}, base_picks or {})
    sb = stability({d: new[d] for d in days}, new_picks or {})
    for name in sorted(set(sa) | set(sb)):
        va, vb = sa.get(name), sb.get(name)
        rows.append(Row(name, va, vb, None if va is None or vb is None else vb - va, better=direction(name)))
    return Comparison(rows, days)


def _order(metric: str) -> tuple[int, str]:
    """Picks first, then summaries, lengths, run cost, per-agent cost."""
    groups = ("hits@", "must_read", "ndcg", "shortlist", "liked", "numbers", "fields", "chinese", "length.")
    for i, prefix in enumerate(groups):
        if metric.startswith(prefix):
            return i, metric
    return (len(groups), metric) if "." not in metric else (len(groups) + 1, metric)
