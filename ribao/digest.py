"""The digest page and its JSON twin: deterministic rendering (Jinja) and atomic writes."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ribao.calls import LLMCall
from ribao.context import Prompts
from ribao.files import write_files
from ribao.ledger import money
from ribao.schemas import Critique, Paper, Pick, Summary
from ribao.sources.categories import format_category
from ribao.sources.text import md_code, md_inline

__all__ = ["md_code", "md_inline"]

WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_PUNCTUATION_ONLY = re.compile(r"^[\W_]+$")


def authors_short(authors: Sequence[str], limit: int = 3) -> str:
    """Return the first `limit` real author names (punctuation-only entries skipped), then 等."""
    names = [a.strip() for a in authors if a.strip() and not _PUNCTUATION_ONLY.match(a.strip())]
    shown = ", ".join(names[:limit])
    return f"{shown} 等" if len(names) > limit else shown


def cost_text(cost: float | None, currency: str) -> str:
    """Return the header's cost: ``¥0.0300``, or ``cost unknown`` when any call had no known price."""
    return money(cost, currency)


def usage_totals(calls: Sequence[LLMCall]) -> dict[str, int]:
    """Sum tokens over calls: input, output and cached token counts."""
    return {
        "input_tokens": sum(c.input_tokens for c in calls),
        "output_tokens": sum(c.output_tokens for c in calls),
        "cached_tokens": sum(c.cached_tokens for c in calls),
    }


SOURCE_MARKS = {"html": "HTML 全文", "pdf": "PDF 全文", "latex": "LaTeX 全文", "abstract": "仅摘要"}


def source_mark(summary: Summary) -> str | None:
    """Return the page's small mark of what the writer read (``HTML 全文``, ``仅摘要`` …), None if unknown."""
    if summary.source is None:
        return None
    mark = SOURCE_MARKS.get(summary.source.used, summary.source.used)
    return f"{mark}（节选）" if summary.source.used != "abstract" and summary.source.cut else mark


def digest_items(
    picks: Sequence[Pick],
    papers: dict[str, Paper],
    summaries: dict[str, Summary],
    stars: dict[str, int | None] | None = None,
) -> list[dict[str, Any]]:
    """Return the template's view of each pick, by rank; `stars` maps a code URL to its star count."""
    items = []
    for pick in sorted(picks, key=lambda p: p.rank):
        paper = papers[pick.arxiv_id]
        items.append(
            {
                "rank": pick.rank,
                "tier": pick.tier,
                "title": paper.title_display,
                "category": format_category(paper.primary_category),
                "abs_url": paper.abs_url,
                "code_url": paper.code_url,
                "stars": (stars or {}).get(paper.code_url or ""),
                "authors": authors_short(paper.authors),
                "summary": summaries[pick.arxiv_id],
                "source_mark": source_mark(summaries[pick.arxiv_id]),
                "reason": pick.reason,
            }
        )
    return items


def render_markdown(
    *,
    prompts: Prompts,
    date: dt.date,
    categories: Sequence[str],
    scanned: int,
    picks: Sequence[Pick],
    papers: dict[str, Paper],
    summaries: dict[str, Summary],
    total_tokens: int,
    cost: str,
    lead: str | None,
    run_id: str,
    stars: dict[str, int | None] | None = None,
    wanted: int | None = None,
) -> str:
    """Render the house format from `editor/digest.md.j2` (user override allowed).

    ``wanted`` is the number of picks asked for (must-read + notable); a page with fewer picks
    says so, with both counts.

    Raises `KeyError` if a pick has no summary: a digest is never silently shorter than its picks.
    """
    items = digest_items(picks, papers, summaries, stars)
    # Rendered through the prompt library, so a user folder can override the page template too.
    text = prompts.render_file(
        "editor/digest.md.j2",
        filters={"md_inline": md_inline, "md_code": md_code},
        date=date.isoformat(),
        weekday=WEEKDAYS_ZH[date.weekday()],
        scanned=scanned,
        picked=len(items),
        total_tokens=total_tokens,
        cost_text=cost,
        lead=lead,
        must_reads=[i for i in items if i["tier"] == "must_read"],
        notables=[i for i in items if i["tier"] == "notable"],
        categories=categories,
        run_id=run_id,
        wanted=wanted if wanted is not None else len(items),
    )
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def digest_record(
    *,
    date: dt.date,
    run_id: str,
    scanned: int,
    categories: Sequence[str],
    picks: Sequence[Pick],
    papers: dict[str, Paper],
    summaries: dict[str, Summary],
    critiques: Sequence[Critique],
    calls: Sequence[LLMCall],
    cost: float | None,
    currency: str,
    lead: str | None,
    wanted: int | None = None,
) -> dict[str, Any]:
    """Build the JSON written beside the digest: date, run_id, scanned, picks with critic verdicts, usage.

    ``wanted`` (picks asked for) is recorded beside ``picked`` so a shorter digest says so.
    """
    picks_out = []
    for pick in sorted(picks, key=lambda p: p.rank):
        paper = papers[pick.arxiv_id]
        summary = summaries[pick.arxiv_id].model_dump(
            exclude={"arxiv_id", "tier", "source"}, exclude_none=True
        )
        source = summaries[pick.arxiv_id].source
        verdicts = [
            {"round": c.round, "verdict": c.verdict, **d.model_dump(exclude={"arxiv_id"})}
            for c in critiques
            for d in c.decisions
            if d.arxiv_id == pick.arxiv_id
        ]
        picks_out.append(
            {
                "arxiv_id": pick.arxiv_id,
                "version": paper.version,
                "rank": pick.rank,
                "tier": pick.tier,
                "title": paper.title_display,
                "title_original": paper.title,
                "authors": list(paper.authors),
                "primary_category": paper.primary_category,
                "abs_url": paper.abs_url,
                "code_url": paper.code_url,
                "reason": pick.reason,
                "scores": pick.scores.model_dump(),
                "triage_score": pick.triage_score,
                "summary": summary,
                "source": source.model_dump() if source is not None else None,
                "critic": verdicts,
            }
        )
    per_agent: dict[str, dict[str, int]] = {}
    for c in calls:
        slot = per_agent.setdefault(c.agent, {"calls": 0, "input_tokens": 0, "output_tokens": 0})
        slot["calls"] += 1
        slot["input_tokens"] += c.input_tokens
        slot["output_tokens"] += c.output_tokens
    return {
        "date": date.isoformat(),
        "run_id": run_id,
        "categories": list(categories),
        "scanned": scanned,
        "picked": len(picks_out),
        "wanted": wanted if wanted is not None else len(picks_out),
        "lead": lead,
        "picks": picks_out,
        "critiques": [c.model_dump() for c in critiques],
        "usage": {**usage_totals(calls), "cost": cost, "currency": currency, "by_agent": per_agent},
    }


def output_files(out_dir: Path, date: dt.date, markdown: str, record: dict[str, Any]) -> dict[Path, str]:
    """Return the files of one digest, path -> text: `<out>/<date>.md` and `<out>/<date>.json`."""
    return {
        out_dir / f"{date.isoformat()}.md": markdown,
        out_dir / f"{date.isoformat()}.json": json.dumps(record, ensure_ascii=False, indent=2) + "\n",
    }


def write_outputs(
    out_dir: Path, date: dt.date, markdown: str, record: dict[str, Any], html: str | None = None
) -> tuple[Path, Path]:
    """Write `<out>/<date>.md` and `<out>/<date>.json` (and `<date>.html` when given) atomically
    (all or none); returns the Markdown and JSON paths."""
    files = output_files(out_dir, date, markdown, record)
    if html is not None:
        files[out_dir / f"{date.isoformat()}.html"] = html
    write_files(files)
    md_path, json_path = list(files)[:2]
    return md_path, json_path
