"""The HTML report of `ribao eval compare`: the table, then per day both versions' picks and summaries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ribao.evals.compare import Comparison
from ribao.evals.metrics import ALL_FIELDS
from ribao.evals.outputs import RunOutputs
from ribao.html_templates import html_environment


def fmt(value: float | None) -> str:
    """Format a metric value: integers plain, others to three significant decimals, n/a for None."""
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if float(value).is_integer() and abs(value) >= 1 else f"{value:.3g}"


def _side(out: RunOutputs | None, pid: str) -> dict[str, Any] | None:
    """One version's view of one paper: its rank and tier when picked, and its summary fields."""
    if out is None:
        return None
    pick = next((p for p in out.picks if p.arxiv_id == pid), None)
    summary = out.summaries.get(pid)
    fields = [(f, getattr(summary, f)) for f in ALL_FIELDS if summary and getattr(summary, f)]
    return {"rank": pick.rank if pick else None, "tier": pick.tier if pick else None, "fields": fields}


def paper_rows(base: RunOutputs | None, new: RunOutputs | None) -> list[dict[str, Any]]:
    """Return one row per paper either version picked: base picks in rank order, then new-only ones."""
    order = [p.arxiv_id for p in sorted(base.picks, key=lambda p: p.rank)] if base else []
    order += (
        [p.arxiv_id for p in sorted(new.picks, key=lambda p: p.rank) if p.arxiv_id not in order]
        if new
        else []
    )
    titles = {**(base.titles if base else {}), **(new.titles if new else {})}
    return [
        {"id": pid, "title": titles.get(pid, ""), "base": _side(base, pid), "new": _side(new, pid)}
        for pid in order
    ]


def render_report(
    table: Comparison,
    base_label: str,
    new_label: str,
    days: Mapping[str, tuple[RunOutputs | None, RunOutputs | None]],
    notes: Sequence[str] = (),
) -> str:
    """Return the report page: `table`, then per base run (its first run of each version) the papers."""
    env = html_environment("ribao.evals", fmt=fmt)
    sections = []
    for base_run, (b, n) in days.items():
        either = b or n
        sections.append(
            {"base_run": base_run, "date": either.date if either else None, "papers": paper_rows(b, n)}
        )
    return env.get_template("report.html.j2").render(
        table=table, base=base_label, new=new_label, days=sections, notes=list(notes)
    )
