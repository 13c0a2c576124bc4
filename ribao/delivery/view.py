"""What every rendering of a digest shows, from its record: the header figures and each pick's entry.

The Markdown template (`editor/digest.md.j2`, user-overridable) and the HTML page read the same
view, so they cannot disagree on a name, a mark, a tier or a cost.
"""

from __future__ import annotations

from typing import Any

from ribao.record import DigestPick, DigestRecord
from ribao.sources.categories import format_category


def entry_view(pick: DigestPick) -> dict[str, Any]:
    """Return one pick as the templates print it (`authors` shortened, `category` named, `source_mark`)."""
    return {
        "rank": pick.rank,
        "tier": pick.tier,
        "title": pick.title,
        "category": format_category(pick.primary_category),
        "abs_url": pick.abs_url,
        "code_url": pick.code_url,
        "stars": pick.stars,
        "authors": pick.authors_short,
        "summary": pick.summary,
        "source_mark": pick.source_mark,
        "reason": pick.reason,
        "why": pick.why,
    }


def digest_view(record: DigestRecord) -> dict[str, Any]:
    """Return the templates' variables: header figures, the lead and the entries by tier."""
    return {
        "date": record.date.isoformat(),
        "weekday": record.weekday,
        "scanned": record.scanned,
        "picked": record.picked,
        "total_tokens": record.usage.total_tokens,
        "cost_text": record.usage.cost_text,
        "lead": record.lead,
        "must_reads": [entry_view(p) for p in record.must_reads],
        "notables": [entry_view(p) for p in record.notables],
        "categories": record.categories,
        "run_id": record.run_id,
        "wanted": record.wanted,
        "profile": record.profile,
    }
