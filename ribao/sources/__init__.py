"""The arXiv listing of one announcement day: from arXiv (listing feed or API, cached) or from a file.

How a day is read from arXiv, and the limits of each way, is described in `ribao.sources.route`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ribao.arxiv_ids import split_id
from ribao.errors import ListingError, NoAnnouncement
from ribao.schemas import Listing, Paper
from ribao.sources.api import ApiOptions
from ribao.sources.calendar import (
    ARXIV_HOLIDAYS,
    is_announcement_day,
    latest_announcement_day,
    skip_reason,
    submission_window,
)
from ribao.sources.categories import category_name_zh, format_category
from ribao.sources.files import read_file
from ribao.sources.normalize import extract_code_url
from ribao.sources.options import DEFAULT_CATEGORIES, ListingOptions
from ribao.sources.records import check_categories
from ribao.sources.route import read_arxiv_day
from ribao.sources.stars import StarsResult, fetch_stars

__all__ = [
    "ARXIV_HOLIDAYS",
    "ApiOptions",
    "DEFAULT_CATEGORIES",
    "ListingOptions",
    "category_name_zh",
    "check_source",
    "extract_code_url",
    "fetch_stars",
    "format_category",
    "is_announcement_day",
    "latest_announcement_day",
    "paper_to_json",
    "read_listing",
    "require_announcement_day",
    "split_id",
    "StarsResult",
    "submission_window",
]

API_SOURCE = "arxiv"


def require_announcement_day(day: dt.date, holidays: Sequence[dt.date] = ()) -> None:
    """Raise `NoAnnouncement` when arXiv publishes no listing dated `day` (weekend or holiday)."""
    reason = skip_reason(day, holidays)
    if reason == "weekend":
        raise NoAnnouncement(f"arXiv has no listing dated {day} ({day:%A}): weekend")
    if reason == "holiday":
        evening = day - dt.timedelta(days=1)
        raise NoAnnouncement(
            f"arXiv has no listing dated {day} ({day:%A}): holiday, no announcement on the evening of "
            f"{evening:%a %Y-%m-%d}"
        )


def _read_arxiv(
    day: dt.date | None, options: ListingOptions, now: dt.datetime, refresh: bool
) -> tuple[dt.date, list[Paper], str]:
    """Return the day, its papers and their origin from arXiv, refusing dates without a listing (yet)."""
    holidays = options.holidays
    latest = latest_announcement_day(now, holidays)
    day = day or latest
    require_announcement_day(day, holidays)
    if day > latest:
        raise NoAnnouncement(
            f"the listing dated {day} is not out yet (newest: {latest}); "
            "arXiv announces it at 20:00 US/Eastern the evening before"
        )
    fetched = read_arxiv_day(day, options, latest=latest, refresh=refresh)
    return day, fetched.papers, fetched.origin


def check_source(source: str) -> None:
    """Raise ListingError unless ``source`` is ``"arxiv"`` or the path of an existing file."""
    if source != API_SOURCE and not Path(source).is_file():
        raise ListingError(f"unknown source {source!r}: neither 'arxiv' nor an existing file")


def _read_path(
    path: Path, day: dt.date | None, categories: list[str], include_cross_lists: bool
) -> tuple[dt.date, list[Paper]]:
    """Return the day and its papers from a listing file, checking the date against the file's own."""
    check_source(str(path))
    listing = read_file(path, categories, include_cross_lists=include_cross_lists)
    if day is not None and listing.announced is not None and day != listing.announced:
        raise ListingError(f"{path} is the listing of {listing.announced}, not of the requested {day}")
    day = day or listing.announced
    if day is None:
        raise ListingError(f"{path} does not say which announcement day it is; pass --date YYYY-MM-DD")
    return day, [p if p.announced == day else p.model_copy(update={"announced": day}) for p in listing.papers]


def read_listing(
    options: ListingOptions,
    date: dt.date | None = None,
    *,
    now: dt.datetime | None = None,
    refresh: bool = False,
) -> Listing:
    """Return the listing of one announcement day in ``options.categories`` (canonical ids, no duplicates).

    ``options.source`` is ``"arxiv"`` or a path to a JSONL or Atom file. The day comes from ``date``,
    else from the file (JSONL ``announced``), else (arXiv) the latest announcement day at ``now``.
    arXiv's latest day is read from its listing feed, earlier days from the API (`route`);
    with ``options.cache_dir`` (``<home>/cache/arxiv``) the raw responses of a non-empty day are
    kept in ``cache_dir/<day>/`` and replayed without the network unless ``refresh``.
    ``options.holidays`` extend `ARXIV_HOLIDAYS`; ``now`` (aware, default the current time) decides
    which listings are out. Raises NoAnnouncement for a weekend, holiday, not-yet-announced day (arXiv is not
    asked) or an empty listing feed or file, ListingNotIndexed for an empty API answer,
    ListingError for a bad source, date, file or feed or an
    unwritable cache, ListingUnavailable when arXiv stays down.
    """
    cats = check_categories(options.categories)
    source, holidays = options.source, options.holidays
    if source == API_SOURCE:
        now = now or dt.datetime.now(dt.UTC)
        day, papers, origin = _read_arxiv(date, options, now, refresh)
    else:
        day, papers = _read_path(Path(source), date, cats, options.include_cross_lists)
        origin = source
    if not papers:
        reason = "" if is_announcement_day(day, holidays) else f" ({day:%A}: weekend or holiday)"
        raise NoAnnouncement(f"no papers in {', '.join(cats)} on {day} from {origin}{reason}")
    return Listing(date=day, origin=origin, papers=papers)


def paper_to_json(paper: Paper) -> dict[str, Any]:
    """Return one paper as a JSON-ready dict (one line of ``ribao fetch --json``); dates in ISO 8601."""
    return {
        "id": paper.arxiv_id,
        "version": paper.version,
        "title": paper.title,
        "authors": list(paper.authors),
        "abstract": paper.abstract,
        "categories": list(paper.categories),
        "primary_category": paper.primary_category,
        "comment": paper.comment,
        "code_url": paper.code_url,
        "announced": paper.announced.isoformat() if paper.announced else None,
        "published": paper.published.isoformat() if paper.published else None,
    }
