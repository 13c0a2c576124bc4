"""`ribao eval score` and `compare`: the metrics of recorded runs and experiments, with no model call."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ribao.app.run_outputs import run_outputs
from ribao.errors import EvalError, EvalNotFound, RunNotFound
from ribao.evals import experiments
from ribao.evals.compare import Comparison, compare
from ribao.evals.judge import judge_metrics, load_judgements
from ribao.evals.metrics import Reference, Tally, cost_metrics, pick_metrics, summary_metrics
from ribao.evals.outputs import RunOutputs
from ribao.evals.refs import hf_reference, labels_reference
from ribao.evals.report import render_report
from ribao.files import write_file
from ribao.runs.db import RunLog
from ribao.runs.rows import RunRow

if TYPE_CHECKING:
    pass

RefKind = Literal["hf", "labels", "feedback"]


@dataclass
class RunScore:
    """The metrics of one run: its tallies (for comparisons), values, picks and the reference used."""

    run_id: str
    base_run: str
    date: str | None
    tallies: dict[str, Tally | None]
    picks: set[str]
    reference: dict[str, Any]

    def values(self) -> dict[str, float | None]:
        """Return each metric's value (None when it is not defined for this run; counts as integers
        where they are whole)."""
        out: dict[str, float | None] = {}
        for name, t in self.tallies.items():
            value = t.value() if t else None
            whole = t is not None and t.kind == "count" and value is not None and float(value).is_integer()
            out[name] = int(value) if whole and value is not None else value
        return out

    def as_json(self) -> dict[str, Any]:
        """Return the run's JSON object: ids, day, the reference used, then one key per metric."""
        head = {
            "run_id": self.run_id,
            "base_run": self.base_run,
            "date": self.date,
            "reference": self.reference,
        }
        return {**head, **self.values()}


@dataclass
class Version:
    """One side of a comparison: a label and, per base run, the runs whose outputs are this version's."""

    label: str
    runs: dict[str, list[str]]
    experiment: experiments.Experiment | None = None


@dataclass
class ComparisonReport:
    """`compare`'s table, both versions, and every run's score (for the per-paper report)."""

    base: Version
    new: Version
    table: Comparison
    scores: dict[str, RunScore] = field(default_factory=dict)
    outputs: dict[str, RunOutputs] = field(default_factory=dict)


def reader_feedback(profile: str) -> tuple[frozenset[str], frozenset[str]]:
    """Return the papers `profile`'s reader likes and dislikes (`ribao feedback`; not interested
    counts as dislike); raises `BadFlag` (exit 2) for an unknown profile."""
    from ribao.app.feedback import open_feedback
    from ribao.profiles.names import check_profile
    from ribao.settings import load_settings

    settings = load_settings()
    with open_feedback(settings) as store:
        signals = store.signals(check_profile(settings, profile))
    return frozenset(p.arxiv_id for p in signals.liked), frozenset(p.arxiv_id for p in signals.disliked)


@dataclass
class References:
    """Builds each day's reference once: `kind` (hf, labels or feedback) and, for a profile, its feedback."""

    home: Path
    kind: RefKind = "hf"
    profile: str | None = None
    _cache: dict[Any, tuple[Reference, dict[str, Any]]] = field(default_factory=dict)

    def of(self, day: Any) -> tuple[Reference, dict[str, Any]]:
        """Return the reference of listing day `day` and what to report of it."""
        if day in self._cache:
            return self._cache[day]
        liked, disliked = reader_feedback(self.profile) if self.profile else (frozenset(), frozenset())
        info: dict[str, Any] = {"kind": self.kind, "profile": self.profile}
        if self.kind == "hf":
            if day is None:
                raise EvalError("a run without a day has no Hugging Face reference; use --refs labels")
            ref, missing = hf_reference(self.home, day)
            info["missing_days"] = [d.isoformat() for d in missing]
        elif self.kind == "labels":
            ref = labels_reference(self.home)
        else:
            if not self.profile:
                raise EvalError("--refs feedback needs --profile NAME")
            ref = Reference(gains=dict.fromkeys(liked, 1.0))
        info["source"] = ref.source or self.kind
        ref = Reference(gains=ref.gains, source=info["source"], liked=liked, disliked=disliked)
        self._cache[day] = (ref, info)
        return ref, info


def score_run(
    log: RunLog, home: Path, row: RunRow, base: RunRow, refs: References, *, url: str | None = None
) -> tuple[RunScore, RunOutputs]:
    """Return one run's metrics against the reference of its day; a replay's cost counts the base run's
    calls of the agents it did not replay."""
    outputs = run_outputs(home, row, url=url)
    ref, info = refs.of(outputs.date or row.date)
    relevant = {pid for pid, gain in ref.gains.items() if gain > 0}
    day = set(outputs.candidates)
    info = {**info, "papers": len(relevant & day), "ignored": len(relevant - day)}
    usage = log.usage_by_agent(row.run_id)
    calls = log.calls(row.run_id)
    if base.run_id != row.run_id:
        replayed = set(usage)
        usage = {**{a: u for a, u in log.usage_by_agent(base.run_id).items() if a not in replayed}, **usage}
        calls = [c for c in log.calls(base.run_id) if c.agent not in replayed] + calls
    tallies = {**pick_metrics(outputs, ref), **summary_metrics(outputs), **cost_metrics(usage, calls)}
    tallies.update(judge_metrics(load_judgements(home, row.run_id)))
    day_str = outputs.date.isoformat() if outputs.date else None
    score = RunScore(row.run_id, base.run_id, day_str, tallies, {p.arxiv_id for p in outputs.picks}, info)
    return score, outputs


def base_of(row: RunRow) -> str:
    """Return the run a run stands for: what it replayed, or itself."""
    return str(row.settings.get("replay_of") or row.run_id)


def resolve(home: Path, log: RunLog, ref: str) -> Version:
    """Return the version `ref` names: ``baseline``, an experiment (id, prefix, name), or a run id."""
    with contextlib.suppress(EvalNotFound):
        exp = experiments.load(home, ref)
        return Version(exp.label, exp.scored_runs(), exp)
    if ref == "baseline":
        experiments.pinned_baseline(home)  # raises, naming why
    try:
        row = log.get_run(ref)
    except RunNotFound:
        raise EvalNotFound(
            f"no experiment or run {ref!r} (see `ribao eval list`, `ribao runs list`)"
        ) from None
    return Version(row.run_id[:10], {base_of(row): [row.run_id]})


def score_runs(
    home: Path,
    refs: list[str],
    *,
    kind: RefKind = "hf",
    profile: str | None = None,
    url: str | None = None,
) -> list[RunScore]:
    """Return the metrics of each run `refs` names (ids, prefixes, ``latest``), in that order; runs and
    checkpoints are read at the store's Postgres `url` when set, else under `home`."""
    references = References(home, kind, profile)
    with RunLog.open(home, url=url) as log:
        rows = [log.get_run(ref) for ref in refs]
        return [score_run(log, home, row, log.get_run(base_of(row)), references, url=url)[0] for row in rows]


def compare_versions(
    home: Path,
    base_ref: str,
    new_ref: str,
    *,
    kind: RefKind = "hf",
    profile: str | None = None,
    url: str | None = None,
) -> ComparisonReport:
    """Compare two versions (experiments, ``baseline`` or run ids) over the base runs they share; runs
    and checkpoints are read at the store's Postgres `url` when set, else under `home`."""
    references = References(home, kind, profile)
    with RunLog.open(home, url=url) as log:
        base, new = resolve(home, log, base_ref), resolve(home, log, new_ref)
        shared = sorted(set(base.runs) & set(new.runs))
        if not shared:
            raise EvalError(f"{base.label} and {new.label} share no recorded run: nothing to compare")
        report = ComparisonReport(base, new, Comparison())
        sides: list[tuple[dict[str, list[Mapping[str, Tally | None]]], dict[str, list[set[str]]]]] = []
        for version in (base, new):
            metrics: dict[str, list[Mapping[str, Tally | None]]] = {}
            picks: dict[str, list[set[str]]] = {}
            for base_id in shared:
                base_row = log.get_run(base_id)
                for run_id in version.runs[base_id]:
                    score, outputs = score_run(log, home, log.get_run(run_id), base_row, references, url=url)
                    report.scores[run_id], report.outputs[run_id] = score, outputs
                    metrics.setdefault(base_id, []).append(score.tallies)
                    picks.setdefault(base_id, []).append(score.picks)
            sides.append((metrics, picks))
    (mb, pb), (mn, pn) = sides
    report.table = compare(mb, mn, base_picks=pb, new_picks=pn)
    return report


def write_report(report: ComparisonReport, path: Path) -> Path:
    """Write the HTML report of `report` to `path` (atomically) and return it; per day, the first run of
    each version is shown."""
    days = {
        base_id: tuple(report.outputs.get(v.runs[base_id][0]) for v in (report.base, report.new))
        for base_id in report.table.days
    }
    html = render_report(report.table, report.base.label, report.new.label, days)  # type: ignore[arg-type]
    try:
        write_file(path, html)
    except OSError as exc:
        raise EvalError(f"cannot write {path}: {exc}") from exc
    return path
