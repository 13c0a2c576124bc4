"""Why a paper was or was not picked in a run (`ribao runs why`), read from the run log alone.

The run log's node events hold every step a paper goes through: the listing (`fetch_listing`), the
memory's exclusions (`recall_memory`), each triage batch's scores, each screening round's shortlist
with its rubric (`rank_papers`, recorded since the shortlist was), the picks with their reasons
(`write_reasons`) and each critic round (`critique_picks`). `RunFacts` reads them once, so the run
page can explain all of a day's candidates from one read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ribao.runs.db import RunLog
from ribao.runs.rows import NodeRow, RunRow
from ribao.runs.why_models import PaperPath, Shortlisting


def _out(row: NodeRow) -> Mapping[str, Any]:
    return row.outputs if isinstance(row.outputs, Mapping) else {}


@dataclass
class RunFacts:
    """What the run log says of one run's candidates, read once: every map keyed by canonical id."""

    run: RunRow
    titles: dict[str, str] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)
    flags: dict[str, dict[str, Any]] = field(default_factory=dict)
    scores: dict[str, int] = field(default_factory=dict)
    batches: dict[str, str] = field(default_factory=dict)
    shortlists: dict[int, list[dict[str, Any]] | None] = field(default_factory=dict)
    rankings: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    reader_cuts: dict[int, dict[str, Any]] = field(default_factory=dict)
    picks: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    critiques: dict[int, dict[str, Any]] = field(default_factory=dict)
    triage_rank: dict[str, int] = field(default_factory=dict)

    @classmethod
    def read(cls, run: RunRow, nodes: Sequence[NodeRow]) -> RunFacts:
        """Gather the facts of `run` from its node tasks (in recording order; later rounds win)."""
        f = cls(run)
        for row in nodes:
            out = _out(row)
            if row.node == "fetch_listing" and out.get("candidates") is not None:
                f.order = [c["arxiv_id"] for c in out["candidates"] if isinstance(c, Mapping)]
                f.titles = {
                    c["arxiv_id"]: c.get("title", "") for c in out["candidates"] if isinstance(c, Mapping)
                }
            elif row.node == "recall_memory":
                f.excluded = {e["arxiv_id"]: e["featured_on"] for e in out.get("excluded") or []}
            elif row.node == "flag_near_duplicates":
                f.flags.update({x["arxiv_id"]: x for x in out.get("memory_flags") or []})
            elif row.node == "triage_batch":
                batch = _batch(row.inputs)
                for pid, score in (out.get("triage_scores") or {}).items():
                    f.scores[pid] = int(score)
                    f.batches[pid] = batch
            elif row.node == "rank_papers" and out.get("ranking") is not None:
                n = int(out.get("screen_rounds") or len(f.rankings) + 1)
                f.rankings[n] = list(out["ranking"])
                f.shortlists[n] = list(out["shortlist"]) if out.get("shortlist") is not None else None
                if isinstance(out.get("reader_cut"), Mapping):
                    f.reader_cuts[n] = dict(out["reader_cut"])
            elif row.node == "write_reasons" and out.get("picks") is not None:
                f.picks[max(f.rankings, default=1)] = list(out["picks"])
            elif row.node == "critique_picks":
                for c in out.get("critiques") or []:
                    f.critiques[int(c["round"])] = c
        eligible = [pid for pid in f.order if pid not in f.excluded and pid in f.scores]
        position = {pid: i for i, pid in enumerate(f.order)}
        ranked = sorted(eligible, key=lambda pid: (-f.scores[pid], position[pid]))
        f.triage_rank = {pid: i for i, pid in enumerate(ranked, start=1)}
        return f

    @property
    def eligible(self) -> int:
        """Candidates not excluded by the memory."""
        return sum(1 for pid in self.order if pid not in self.excluded)


def _batch(inputs: Any) -> str:
    """Return ``n/count`` from a triage task's recorded inputs (``?`` when not recorded)."""
    if isinstance(inputs, Mapping) and "batch_index" in inputs:
        return f"{inputs['batch_index']}/{inputs.get('batch_count', '?')}"
    return "?"


def _rubric(scores: Mapping[str, int]) -> dict[str, int]:
    keys = ("novelty", "impact", "rigor")
    return {**{k: int(scores[k]) for k in keys}, "total": sum(int(scores[k]) for k in keys)}


def _round(f: RunFacts, n: int, pid: str) -> Shortlisting:
    listed = f.shortlists.get(n)
    step = Shortlisting(round=n, recorded=listed is not None)
    if listed is not None:
        by_score = [e for e in listed if not e.get("by_critic")]
        step.size = len(by_score)
        step.cut_score = int(by_score[-1]["triage_score"]) if by_score else None
        mine = next((e for e in listed if e["arxiv_id"] == pid), None)
        step.shortlisted = mine is not None
        if mine is not None:
            step.by_critic = bool(mine.get("by_critic"))
            step.rubric = _rubric(mine["scores"])
    _reader(f, n, pid, step)
    ranked = next((r for r in f.picks.get(n) or f.rankings.get(n, []) if r["arxiv_id"] == pid), None)
    if ranked is not None:
        step.rank, step.tier, step.reason = ranked["rank"], ranked["tier"], ranked.get("reason")
        step.rubric = step.rubric or _rubric(ranked["scores"])
        step.shortlisted = True
    critique = f.critiques.get(n) or {}
    for d in critique.get("decisions", []):
        if d["arxiv_id"] == pid:
            step.decision, step.critic_reason, step.replaced_by = (
                d["decision"],
                d["reason"],
                d.get("replacement"),
            )
        elif d.get("replacement") == pid:
            step.replaces, step.replaces_reason = d["arxiv_id"], d["reason"]
    return step


def _reader(f: RunFacts, n: int, pid: str, step: Shortlisting) -> None:
    """Fill in how round `n` was cut for the run's reader profile: by triage score and relevance."""
    cut = f.reader_cuts.get(n)
    if cut is None:  # a run without a profile, or one from before the cut was recorded
        step.reader = f.run.settings.get("profile")
        return
    step.reader, step.floor = cut["profile"], cut["floor"]
    step.relevance, step.blended = cut["relevance"].get(pid), cut["blended"].get(pid)
    by_score = [e for e in f.shortlists.get(n) or [] if not e.get("by_critic")]
    step.cut_blended = cut["blended"].get(by_score[-1]["arxiv_id"]) if by_score else None


def _final(f: RunFacts, pid: str) -> tuple[str | None, int | None, bool, dict[str, Any] | None]:
    """Return (tier, rank, known, record) of `pid` in the run's last picks: the run's own when it
    finished, else the last screening round's (a run that ended before its digest has no final tier)."""
    picks = f.run.picks if f.run.status == "done" else (f.picks[max(f.picks)] if f.picks else [])
    mine = next((p for p in picks if p.get("arxiv_id") == pid), None)
    known = f.run.status == "done"
    if mine is None:
        return None, None, known, None
    return mine.get("tier"), mine.get("rank"), known, mine


def explain(f: RunFacts, pid: str, elsewhere: Sequence[tuple[str, str | None]] = ()) -> PaperPath:
    """Return the path of paper `pid` (canonical id) through the run of `f`.

    `elsewhere` lists (run id, day) of other runs whose listing held the paper (for a non-candidate).
    """
    run = f.run
    path = PaperPath(
        run_id=run.run_id, status=run.status, date=run.date, arxiv_id=pid, title=f.titles.get(pid),
        candidate=pid in f.titles, candidates=len(f.order), categories=run.categories, eligible=f.eligible,
    )  # fmt: skip
    if not path.candidate:
        path.not_candidate = _not_candidate(f, pid, elsewhere)
        return path
    if pid in f.excluded:
        path.featured_on = dt.date.fromisoformat(f.excluded[pid])
        return path
    path.near_duplicate = f.flags.get(pid)
    path.triage_score, path.triage_rank = f.scores.get(pid), f.triage_rank.get(pid)
    path.batch = f.batches.get(pid)
    path.rounds = [_round(f, n, pid) for n in sorted(f.rankings)]
    path.final_tier, path.final_rank, path.final_known, record = _final(f, pid)
    # The rankings of the rounds carry the relevance and its why when the run had a profile; the run
    # record's picks carry the relevance too (not in runs recorded before they kept it), not the why.
    ranked = next((r for n in sorted(f.rankings, reverse=True) for r in f.rankings[n]
                   if r["arxiv_id"] == pid), None)  # fmt: skip
    known = [x for x in (record, ranked) if x is not None]
    path.relevance = next((x["relevance"] for x in known if x.get("relevance") is not None), None)
    path.evidence = list(next((x["why"] for x in reversed(known) if x.get("why")), []))
    return path


def _not_candidate(f: RunFacts, pid: str, elsewhere: Sequence[tuple[str, str | None]]) -> list[str]:
    run = f.run
    if not f.order:
        return [f"the run recorded no listing ({run.status}{': ' + run.error if run.error else ''})"]
    cats = ", ".join(run.categories) or "its categories"
    why = [f"not on the {run.date or '?'} listing of {cats} ({len(f.order)} candidates)"]
    others = [(r, d) for r, d in elsewhere if r != run.run_id]
    if others:
        days = ", ".join(f"{d or '?'} (run {r[:10]})" for r, d in others[:3])
        why.append(f"a candidate of another day's listing: {days}")
    month = pid[:4]
    if run.date and month.isdigit() and month > run.date.strftime("%y%m"):
        why.append(f"its id dates it after this listing (20{month[:2]}-{month[2:]})")
    if not others:
        why.append("no recent run of another day listed it: outside the categories, a replacement, or older")
    return why


def path_of(log: RunLog, ref: str, arxiv_id: str) -> PaperPath:
    """Return paper `arxiv_id`'s path through run `ref` (id, prefix or ``latest``) of `log`.

    Raises `RunNotFound` for an unknown run.
    """
    run = log.get_run(ref)
    facts = RunFacts.read(run, log.nodes(run.run_id))
    elsewhere = [] if arxiv_id in facts.titles else listed_elsewhere(log, run, arxiv_id)
    return explain(facts, arxiv_id, elsewhere)


def listed_elsewhere(
    log: RunLog, run: RunRow, arxiv_id: str, limit: int = 60
) -> list[tuple[str, str | None]]:
    """Return (run id, day) of the runs of other days whose recorded listing held `arxiv_id`: the
    newest run with a listing of each day, among the newest `limit` runs (through the run log's
    public reads, so any backend serves it)."""
    days: set[dt.date | None] = {run.date}
    found = []
    for other in log.list_runs(limit=limit):
        if other.date in days:
            continue
        listing = next((_out(n) for n in log.nodes(other.run_id) if n.node == "fetch_listing"), None)
        if listing is None:
            continue
        days.add(other.date)
        if any(
            isinstance(c, Mapping) and c.get("arxiv_id") == arxiv_id for c in listing.get("candidates") or []
        ):
            found.append((other.run_id, other.date.isoformat() if other.date else None))
    return found
