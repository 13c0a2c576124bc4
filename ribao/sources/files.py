"""Read a listing from a file, told apart by content: JSONL day files, saved listing feeds, API responses.

A saved listing feed (RSS 2.0 or arXiv's Atom form, from rss.arxiv.org) is read as a listing:
its announcement day, announce types honoured (replacements dropped, cross-lists marked).
"""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ribao.errors import ListingError
from ribao.schemas import Paper
from ribao.sources import atom, rss
from ribao.sources.records import build_paper, dedupe, select

_BOM = b"\xef\xbb\xbf"


class FileListing(NamedTuple):
    """Papers read from a file and the announcement day the file states (JSONL only, else None)."""

    papers: list[Paper]
    announced: dt.date | None


def _field(record: dict[str, Any], name: str, kind: type, where: str) -> Any:
    """Return ``record[name]`` checked to be of ``kind``; raise ListingError naming ``where``."""
    value = record.get(name)
    if not isinstance(value, kind):
        raise ListingError(f"{where}: field {name!r} should be {kind.__name__}, got {value!r:.60}")
    return value


def _record_to_paper(record: dict[str, Any], where: str) -> Paper:
    """Return the `Paper` of one JSONL record (format of ``data/arxiv/*.cs.jsonl``)."""
    raw_id = record.get("id_versioned") or _field(record, "id", str, where)
    authors = _field(record, "authors", list, where)
    published = record.get("published")
    try:
        return build_paper(
            raw_id=raw_id,
            title=_field(record, "title", str, where),
            authors=[str(a) for a in authors],
            abstract=_field(record, "abstract", str, where),
            categories=[str(c) for c in _field(record, "categories", list, where)],
            primary_category=record.get("primary_category"),
            comment=record.get("comment"),
            published=dt.datetime.fromisoformat(published) if published else None,
            announced=dt.date.fromisoformat(record["announced"]) if record.get("announced") else None,
        )
    except (TypeError, ValueError) as err:
        raise ListingError(f"{where}: {err}") from err


def _read_jsonl(content: bytes, origin: str) -> FileListing:
    """Return the papers of a JSONL listing and its single ``announced`` date (None if absent).

    Line numbers count every physical line (``\\n``-separated, blank ones included), so an
    error names the line an editor shows; invalid UTF-8 is reported by line too.
    """
    papers: list[Paper] = []
    for number, raw in enumerate(content.removeprefix(_BOM).split(b"\n"), start=1):
        where = f"{origin}:{number}"
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ListingError(
                f"{where}: not UTF-8 text (byte {raw[err.start]:#04x} at column {err.start + 1})"
            ) from err
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise ListingError(f"{where}: not a JSON object ({err})") from err
        if not isinstance(record, dict):
            raise ListingError(f"{where}: expected a JSON object, got {type(record).__name__}")
        papers.append(_record_to_paper(record, where))
    days = {p.announced for p in papers if p.announced is not None}
    if len(days) > 1:
        listed = ", ".join(sorted(d.isoformat() for d in days))
        raise ListingError(f"{origin}: mixes several announcement days ({listed}); one file is one day")
    return FileListing(papers, days.pop() if days else None)


def _read_xml(content: bytes, origin: str) -> FileListing:
    """Return the papers of a saved listing feed (with its day) or of an API Atom response (no day)."""
    try:
        root = ET.fromstring(content)
    except ET.ParseError as err:
        raise ListingError(f"{origin}: malformed XML, {err}") from err
    if root.tag == "{http://www.w3.org/2005/Atom}feed" and not rss.is_listing_feed(root):
        return FileListing(atom.parse_atom(content, origin), None)
    if root.tag not in ("rss", "{http://www.w3.org/2005/Atom}feed", rss.RDF):
        raise ListingError(
            f"{origin}: not an Atom feed nor an arXiv listing feed (root element is <{root.tag}>)"
        )
    feed = rss.parse_feed(content, origin)
    # Replacements are never part of the day's listing; `select` decides on cross-lists.
    return FileListing([i.paper for i in feed.items if i.announce_type in ("new", "cross")], feed.day)


def parse_listing(content: bytes, origin: str) -> FileListing:
    """Return the papers in ``content``, JSONL or Atom by its first character, unfiltered.

    Raises ListingError naming ``origin`` for an empty file, an unknown format, undecodable
    text, or any malformed record or feed.
    """
    head = content.removeprefix(_BOM).lstrip()
    if not head:
        raise ListingError(f"{origin}: the file is empty")
    if head.startswith(b"<"):
        return _read_xml(content, origin)
    if not head.startswith(b"{"):
        raise ListingError(f"{origin}: neither JSONL nor Atom XML (starts with {head[:20]!r})")
    return _read_jsonl(content, origin)


def read_file(path: Path, categories: Sequence[str], *, include_cross_lists: bool = True) -> FileListing:
    """Return the de-duplicated papers of a listing file that are in ``categories``.

    De-duplication keeps each canonical id once, at its highest version; see `records.select`
    for the category rule. Raises ListingError if the file cannot be read or parsed.
    """
    try:
        content = path.read_bytes()
    except OSError as err:
        raise ListingError(f"cannot read listing file {path}: {err.strerror or err}") from err
    listing = parse_listing(content, str(path))
    papers = select(dedupe(listing.papers), categories, include_cross_lists=include_cross_lists)
    return FileListing(papers, listing.announced)
