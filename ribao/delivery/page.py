"""The digest as one self-contained HTML page (inline CSS, no scripts, fonts or CDN), from its JSON record.

Rendered with Jinja2 autoescaping, so every paper string is escaped; links other than http(s)
are shown as text, never as links.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from ribao.digest import cost_text
from ribao.sources.categories import format_category
from ribao.sources.text import html_text

WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def safe_url(url: Any) -> str | None:
    """Return `url` when it is an absolute http(s) address with a host, else None."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def _finalize(value: Any) -> Any:
    """Escape every string a template prints through the one paper-text module (cleaned, then escaped)."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return Markup(html_text(value))
    return value


def environment() -> Environment:
    """Return the Jinja environment of the page and site templates (autoescaped, strict)."""
    env = Environment(
        loader=PackageLoader("ribao.delivery", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters["safe_url"] = safe_url
    return env


def page_view(record: dict[str, Any]) -> dict[str, Any]:
    """Return the template's view of a digest record: header figures and the picks by tier."""
    day = dt.date.fromisoformat(record["date"])
    usage = record.get("usage", {})
    items = []
    for p in sorted(record["picks"], key=lambda p: p["rank"]):
        authors = [a for a in p.get("authors", []) if a.strip()]
        items.append(
            {
                **p,
                "category": format_category(p["primary_category"]),
                "authors_short": ", ".join(authors[:3]) + (" 等" if len(authors) > 3 else ""),
                "source_used": (p.get("source") or {}).get("used"),
                "stars": p.get("stars"),
            }
        )
    return {
        "date": record["date"],
        "weekday": WEEKDAYS_ZH[day.weekday()],
        "scanned": record["scanned"],
        "picked": len(items),
        "total_tokens": usage.get("input_tokens", 0) + usage.get("output_tokens", 0),
        "cost_text": cost_text(usage.get("cost"), usage.get("currency") or "CNY"),
        "lead": record.get("lead"),
        "must_reads": [i for i in items if i["tier"] == "must_read"],
        "notables": [i for i in items if i["tier"] != "must_read"],
        "categories": record.get("categories", []),
        "run_id": record.get("run_id", ""),
    }


def render_page(record: dict[str, Any], *, index_url: str | None = None) -> str:
    """Return `<date>.html` for a digest record (the `<date>.json` data); `index_url` links the archive."""
    return environment().get_template("day.html.j2").render(**page_view(record), index_url=index_url)
