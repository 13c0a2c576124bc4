"""A paper's path through a run as plain lines (`ribao runs why` prints them; the run page shows them)."""

from __future__ import annotations

from ribao.runs.why_models import PaperPath, Shortlisting

TIERS = {"must_read": "must-read", "notable": "notable"}


def _rubric(r: dict[str, int] | None) -> str:
    if not r:
        return ""
    return f"rubric novelty {r['novelty']} · impact {r['impact']} · rigor {r['rigor']} = {r['total']}"


def _round(step: Shortlisting, score: int | None) -> list[str]:
    head = f"round {step.round}"
    if not step.recorded and not step.shortlisted:
        return [f"{head}: not ranked (this run did not record its shortlist, so the cut is unknown)"]
    if step.reader:
        return _reader_round(step, score)
    cut = (
        f"the cut at triage score {step.cut_score}, {step.size} shortlisted" if step.size is not None else ""
    )
    if step.shortlisted is False:
        tie = " (tied; earlier papers in the listing came first)" if score == step.cut_score else ""
        return [f"{head}: missed the shortlist — its triage score {score}, {cut}{tie}"]
    return _shortlisted(step, cut)


def _reader_round(step: Shortlisting, score: int | None) -> list[str]:
    """A round whose shortlist was cut for a reader profile: by triage score blended with relevance."""
    head, reader = f"round {step.round}", f"reader {step.reader}"
    if step.shortlisted is not False:
        cut = f"the cut at {step.cut_blended:.2f} for {reader}" if step.cut_blended is not None else ""
        mine = f"its triage and relevance score {step.blended:.2f}, " if step.blended is not None else ""
        return _shortlisted(step, f"{mine}{cut}, {step.size} shortlisted" if cut else "")
    if step.relevance is None and step.blended is None:
        return [f"{head}: missed the shortlist for {reader}, cut by triage score and relevance (this run did "
                f"not record the relevance) — its triage score {score}, {step.size} shortlisted"]  # fmt: skip
    if step.blended is None:
        return [f"{head}: left out for {reader} — its relevance {step.relevance:.2f} is under the floor "
                f"{step.floor:g} (its triage score {score})"]  # fmt: skip
    return [f"{head}: missed the shortlist for {reader} — its triage and relevance score {step.blended:.2f} "
            f"(triage {score}/10, relevance {step.relevance or 0:.2f}), the cut at {step.cut_blended:.2f}, "
            f"{step.size} shortlisted"]  # fmt: skip


def _shortlisted(step: Shortlisting, cut: str) -> list[str]:
    """The lines of a round in which the paper made the shortlist: its rubric, rank and the critic's word."""
    head = f"round {step.round}"
    how = "added as the critic's replacement" if step.by_critic else "made the shortlist"
    lines = [
        f"{head}: {how}" + (f" ({cut})" if cut else "") + (f"; {_rubric(step.rubric)}" if step.rubric else "")
    ]
    if step.replaces:
        lines.append(f"  suggested by the critic to replace {step.replaces}: {step.replaces_reason}")
    if step.rank is None:
        lines.append("  ranked below the picks")
    else:
        lines.append(f"  ranked {step.rank} ({TIERS.get(step.tier or '', step.tier)})"
                     + (f": {step.reason}" if step.reason else ""))  # fmt: skip
    if step.decision == "replace":
        to = f" → {step.replaced_by}" if step.replaced_by else " (no replacement named)"
        lines.append(f"  critic: replace{to}: {step.critic_reason}")
    elif step.decision == "keep":
        lines.append(f"  critic: keep: {step.critic_reason}")
    return lines


def path_lines(p: PaperPath) -> list[str]:
    """Return the path as lines: the run, then each step the paper went through, then its outcome."""
    title = f" {p.title}" if p.title else ""
    lines = [f"{p.arxiv_id}{title}", f"run {p.run_id} ({p.status}), listing of {p.date or '?'}"]
    if not p.candidate:
        return [*lines, "not a candidate:", *(f"  {why}" for why in p.not_candidate)]
    lines.append(f"candidate: one of {p.candidates} in {', '.join(p.categories) or 'the listing'}")
    if p.featured_on:
        return [
            *lines,
            f"excluded by the memory: featured on {p.featured_on}, so never shown to the screener",
        ]
    if p.near_duplicate:
        nd = p.near_duplicate
        lines.append(f"memory flag: near-duplicate of {nd['similar_to']} (featured on {nd['featured_on']},"
                     f" similarity {float(nd['similarity']):.2f})")  # fmt: skip
    if p.triage_score is None:
        return [*lines, "triage: not scored (the run ended before its batch was)"]
    lines.append(f"triage: score {p.triage_score}/10, rank {p.triage_rank} of {p.eligible} (batch {p.batch})")
    for step in p.rounds:
        lines += _round(step, p.triage_score)
    if p.relevance is not None:
        lines.append(
            f"relevance to the reader: {p.relevance:.2f}"
            + (f" ({'; '.join(p.evidence)})" if p.evidence else "")
        )
    lines.append(_outcome(p))
    return lines


def _outcome(p: PaperPath) -> str:
    if p.final_tier:
        where = "in the digest" if p.final_known else "in the last picks (this run has written no digest)"
        return f"final: {TIERS.get(p.final_tier, p.final_tier)}, rank {p.final_rank}, {where}"
    if not p.final_known:
        return "final: not in the last picks (this run has written no digest)"
    replaced = next((s for s in reversed(p.rounds) if s.decision == "replace"), None)
    if replaced:
        return f"final: not in the digest — replaced by the critic in round {replaced.round}"
    return "final: not in the digest"
