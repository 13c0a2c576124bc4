"""The written digest: its record, built once from a run, and its Markdown (Jinja), JSON and HTML files."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ribao.calls import LLMCall
from ribao.context import Prompts
from ribao.delivery.page import render_page
from ribao.delivery.view import digest_view
from ribao.files import write_files
from ribao.ledger import add_tokens
from ribao.record import AgentUsage, DigestPaths, DigestPick, DigestRecord, DigestUsage, PickVerdict
from ribao.schemas import Critique, Paper, Pick, PickText, Summary
from ribao.sources.text import md_code, md_inline

__all__ = ["md_code", "md_inline"]


def _pick(
    pick: Pick, paper: Paper, summary: Summary, critiques: Sequence[Critique], stars: int | None
) -> DigestPick:
    verdicts = [
        PickVerdict(round=c.round, verdict=c.verdict, **d.model_dump(exclude={"arxiv_id"}))
        for c in critiques
        for d in c.decisions
        if d.arxiv_id == pick.arxiv_id
    ]
    return DigestPick(
        arxiv_id=pick.arxiv_id,
        version=paper.version,
        rank=pick.rank,
        tier=pick.tier,
        title=paper.title_display,
        title_original=paper.title,
        authors=list(paper.authors),
        primary_category=paper.primary_category,
        abs_url=paper.abs_url,
        code_url=paper.code_url,
        stars=stars,
        reason=pick.reason,
        scores=pick.scores,
        triage_score=pick.triage_score,
        summary=PickText(**summary.model_dump(include=set(PickText.model_fields))),
        source=summary.source,
        critic=verdicts,
        relevance=pick.relevance,
        why=list(pick.why),
    )


def usage_of(calls: Sequence[LLMCall], cost: float | None, currency: str | None) -> DigestUsage:
    """Return the record's usage: tokens of `calls` (in total and per agent) and their `cost`."""
    by_agent: dict[str, list[LLMCall]] = {}
    for c in calls:
        by_agent.setdefault(c.agent, []).append(c)
    agents = {}
    for agent, mine in by_agent.items():
        tokens = add_tokens(mine)
        agents[agent] = AgentUsage(
            calls=len(mine), input_tokens=tokens.input_tokens, output_tokens=tokens.output_tokens
        )
    totals = add_tokens(calls)
    return DigestUsage(**totals._asdict(), cost=cost, currency=currency, by_agent=agents)


def build_record(
    *,
    date: dt.date,
    run_id: str,
    scanned: int,
    categories: Sequence[str],
    picks: Sequence[Pick],
    papers: Mapping[str, Paper],
    summaries: Mapping[str, Summary],
    critiques: Sequence[Critique],
    calls: Sequence[LLMCall],
    cost: float | None,
    currency: str | None,
    lead: str | None,
    wanted: int | None = None,
    stars: Mapping[str, int | None] | None = None,
    profile: str | None = None,
    floor: float | None = None,
) -> DigestRecord:
    """Build the record of a digest: the picks by rank with their papers, summaries and critic verdicts.

    ``wanted`` (picks asked for) is recorded beside ``picked`` so a shorter digest says so; `stars`
    maps a code URL to its star count. Raises `KeyError` if a pick has no summary: a digest is never
    silently shorter than its picks.
    """
    stars = stars or {}
    out = [
        _pick(p, papers[p.arxiv_id], summaries[p.arxiv_id], critiques,
              stars.get(papers[p.arxiv_id].code_url or ""))
        for p in sorted(picks, key=lambda p: p.rank)
    ]  # fmt: skip
    return DigestRecord(
        date=date,
        run_id=run_id,
        categories=list(categories),
        scanned=scanned,
        picked=len(out),
        wanted=wanted if wanted is not None else len(out),
        lead=lead,
        picks=out,
        critiques=list(critiques),
        usage=usage_of(calls, cost, currency),
        profile=profile,
        floor=floor,
    )


def render_markdown(record: DigestRecord, prompts: Prompts) -> str:
    """Render the house format from `editor/digest.md.j2` (user override allowed).

    A page with fewer picks than asked for (`wanted`) says so, with both counts.
    """
    # Rendered through the prompt library, so a user folder can override the page template too.
    text = prompts.render_file(
        "editor/digest.md.j2", filters={"md_inline": md_inline, "md_code": md_code}, **digest_view(record)
    )
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def write_record(
    record: DigestRecord,
    out_dir: Path,
    prompts: Prompts,
    write: Callable[[Mapping[Path, str]], None] = write_files,
) -> DigestPaths:
    """Write `<out>/<date>.md`, `.json` and `.html` of `record` with `write` (atomic: all or none)."""
    paths = DigestPaths.of(out_dir, record.date)
    write(
        {
            paths.markdown: render_markdown(record, prompts),
            paths.json: record.to_json(),
            paths.html: render_page(record),
        }
    )
    return paths
