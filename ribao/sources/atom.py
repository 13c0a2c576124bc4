"""Read arXiv API Atom responses (old and new API format) into `Paper`s with feedparser."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from typing import Any

from ribao.errors import ListingError
from ribao.schemas import Paper
from ribao.sources.records import build_paper

_ATOM = "{http://www.w3.org/2005/Atom}"
# arXiv reports a bad query as a one-entry feed whose id points into its error namespace.
_ERROR_ID_MARK = "arxiv.org/api/errors"


def _error_in(root: ET.Element) -> str | None:
    """Return the message of arXiv's error entry under ``root``, if there is one."""
    for entry in root.iter(f"{_ATOM}entry"):
        if _ERROR_ID_MARK in (entry.findtext(f"{_ATOM}id") or ""):
            return " ".join((entry.findtext(f"{_ATOM}summary") or "unspecified error").split())
    return None


def error_message(content: bytes) -> str | None:
    """Return arXiv's message when ``content`` is an API error feed, else None (also for non-XML)."""
    try:
        return _error_in(ET.fromstring(content))
    except ET.ParseError:
        return None


def check_feed(content: bytes, origin: str) -> None:
    """Raise ListingError unless ``content`` is a well-formed Atom feed without an arXiv error entry.

    The message names ``origin`` (a path or an endpoint) and the parse problem (line, column).
    """
    try:
        root = ET.fromstring(content)
    except ET.ParseError as err:
        raise ListingError(f"{origin}: malformed XML, {err}") from err
    if root.tag != f"{_ATOM}feed":
        raise ListingError(f"{origin}: not an Atom feed (root element is <{root.tag}>)")
    message = _error_in(root)
    if message is not None:
        raise ListingError(f"{origin}: the arXiv API reported an error: {message}")


def _published(entry: Any) -> dt.datetime | None:
    """Return the entry's first-version submission time in UTC, if it has one."""
    raw = entry.get("published")
    if not raw:
        return None
    stamp = dt.datetime.fromisoformat(raw)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


def _entry_to_paper(entry: Any) -> Paper:
    """Return the `Paper` of one feedparser entry; raise ValueError or KeyError on missing fields."""
    primary = entry.get("arxiv_primary_category") or {}
    return build_paper(
        raw_id=entry["id"],
        title=entry.get("title", ""),
        authors=[author.get("name", "") for author in entry.get("authors", [])],
        abstract=entry.get("summary", ""),
        categories=[tag["term"] for tag in entry.get("tags", []) if tag.get("term")],
        primary_category=primary.get("term"),
        comment=entry.get("arxiv_comment"),
        published=_published(entry),
    )


def parse_atom(content: bytes, origin: str) -> list[Paper]:
    """Return the papers of an arXiv API Atom response, in feed order (an empty feed gives []).

    Raises ListingError naming ``origin`` for malformed XML, a non-Atom document, arXiv's error
    entry (HTTP 400 responses), or an entry without a usable id or category.
    """
    import feedparser  # imported when a response is read, not by every run that reads a saved listing

    check_feed(content, origin)
    feed = feedparser.parse(content)
    papers = []
    for number, entry in enumerate(feed.entries, start=1):
        try:
            papers.append(_entry_to_paper(entry))
        except (KeyError, ValueError) as err:
            raise ListingError(f"{origin}: entry {number} is unusable: {err}") from err
    return papers
