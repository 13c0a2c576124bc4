"""The digest as one self-contained HTML page (inline CSS, no scripts, fonts or CDN), from its record.

Rendered with Jinja2 autoescaping, so every paper string is escaped; links other than http(s)
are shown as text, never as links.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment
from markupsafe import Markup

from ribao.delivery.view import digest_view
from ribao.html_templates import html_environment
from ribao.record import DigestRecord
from ribao.sources.text import html_text


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
    return html_environment("ribao.delivery", finalize=_finalize, safe_url=safe_url)


def render_page(record: DigestRecord, *, index_url: str | None = None, run_url: str | None = None) -> str:
    """Return `<date>.html` of a digest record; `index_url` links the archive, `run_url` the run's page."""
    return (
        environment()
        .get_template("day.html.j2")
        .render(**digest_view(record), index_url=index_url, run_url=run_url)
    )
