"""Render `ribao runs diff A B --html FILE`: one self-contained page (inline CSS, no script, no fonts)."""

from __future__ import annotations

from ribao import ledger
from ribao.html_templates import html_environment
from ribao.runs.diff_models import RunDiff
from ribao.runs.diff_view import USAGE_HEADERS, call_counts, call_title, side_line, usage_cells


def diff_class(line: str) -> str:
    """Return the CSS class of one unified-diff line: a file header, a hunk, an addition or removal."""
    if line.startswith(("+++", "---")):
        return "file"
    if line.startswith("@@"):
        return "hunk"
    return {"+": "add", "-": "del"}.get(line[:1], "ctx")


def render_page(diff: RunDiff) -> str:
    """Return the page of a run diff as HTML text (every value escaped by the template)."""
    return (
        html_environment("ribao.runs", diff_class=diff_class)
        .get_template("diff.html.j2")
        .render(
            diff=diff,
            a_line=side_line("A", diff.a),
            b_line=side_line("B", diff.b),
            headers=USAGE_HEADERS,
            usage_rows=[usage_cells(row) for row in [*diff.agents, diff.total]],
            call_counts=call_counts(diff),
            call_title=call_title,
            money=ledger.money,
        )
    )
