"""Read an announcement day through the arXiv API with the `arxiv` package, politely and with timeouts.

The API has no "listing of day D" query. ribao asks for the submissions of D's window
(`calendar.submission_window`) in the requested categories, which approximates the listing:
cross-lists of older papers are missed, papers held in moderation show up on the wrong day, and
replacements (a new version of a paper first submitted before the window) are dropped here.
With a cache folder, the raw responses of a day are kept and replayed (see `cache`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import requests

from ribao.errors import ListingError, ListingNotIndexed, ListingUnavailable, NoAnnouncement
from ribao.schemas import Paper
from ribao.sources.cache import CacheMiss, DayCache, Recording
from ribao.sources.calendar import EASTERN, submission_window
from ribao.sources.options import ListingOptions
from ribao.sources.records import build_paper, check_categories, dedupe, select
from ribao.sources.session import ApiOptions, ApiSession, retry_after_seconds

if TYPE_CHECKING:
    import arxiv

__all__ = ["API_ROUTE", "ApiOptions", "ApiSession", "Fetched", "fetch_api_day", "retry_after_seconds"]

logger = logging.getLogger(__name__)

API_ROUTE = "api"


class Fetched(NamedTuple):
    """The papers of one day and where they came from (an endpoint URL, noting a cache replay)."""

    papers: list[Paper]
    origin: str


def make_client(options: ApiOptions, page_size: int, session: requests.Session | None = None) -> arxiv.Client:
    """Return an arxiv client aimed at ``options.endpoint``, using ``session`` (default `ApiSession`).

    The client does not retry itself: retries live in the session (tenacity), and the
    client's own would multiply the tries.
    """
    import arxiv  # imported when the API is asked, not by every run that reads a saved listing

    client = arxiv.Client(page_size=page_size, delay_seconds=options.delay_seconds, num_retries=0)
    client.query_url_format = options.endpoint.replace("{", "{{").replace("}", "}}") + "?{}"
    client._session = session if session is not None else ApiSession(options)
    return client


def build_query(categories: Sequence[str], start: dt.datetime, end: dt.datetime) -> str:
    """Return the API query for submissions in ``categories`` between two UTC instants.

    arXiv's ``submittedDate`` takes ``YYYYMMDDHHMM`` in GMT, to the minute, both ends included;
    the exact half-open window is applied again to the results.
    """
    cats = " OR ".join(f"cat:{code}" for code in categories)
    return f"({cats}) AND submittedDate:[{start:%Y%m%d%H%M} TO {end:%Y%m%d%H%M}]"


def _to_paper(result: arxiv.Result, day: dt.date) -> Paper:
    """Return the `Paper` of one arxiv result, dated with the announcement day."""
    return build_paper(
        raw_id=result.entry_id,
        title=result.title,
        authors=[author.name for author in result.authors],
        abstract=result.summary,
        categories=result.categories,
        primary_category=result.primary_category,
        comment=result.comment,
        published=result.published,
        announced=day,
    )


def _submissions(
    day: dt.date,
    cats: list[str],
    options: ApiOptions,
    window: tuple[dt.datetime, dt.datetime],
    session: requests.Session,
) -> list[Paper]:
    """Return the de-duplicated papers first submitted in ``window``, in any of ``cats``, oldest first."""
    import arxiv

    start, end = window
    search = arxiv.Search(
        query=build_query(cats, start, end),
        max_results=options.max_results + 1,
        sort_by=arxiv.SortCriterion.SubmittedDate,
        sort_order=arxiv.SortOrder.Ascending,
    )
    client = make_client(options, min(options.page_size, options.max_results + 1), session)
    try:
        results = list(client.results(search))
    except arxiv.ArxivError as err:  # e.g. an empty page in the middle of paging
        raise ListingUnavailable(f"arXiv API at {options.endpoint}: {err}") from err
    finally:
        session.close()
    if len(results) > options.max_results:
        raise ListingError(
            f"arXiv API at {options.endpoint}: more than {options.max_results} submissions for {day}; "
            "raise max_results if that is right"
        )
    try:
        papers = [_to_paper(r, day) for r in results if start <= r.published < end]
    except ValueError as err:
        raise ListingError(f"arXiv API at {options.endpoint}: unusable entry: {err}") from err
    return select(dedupe(papers), cats)


def _replay(
    cache: DayCache,
    day: dt.date,
    cats: list[str],
    options: ApiOptions,
    window: tuple[dt.datetime, dt.datetime],
) -> list[Paper] | None:
    """Return the day's papers from its cached API responses, None when the cache cannot answer."""
    session = cache.replay(API_ROUTE)
    if session is None:
        return None
    try:
        # No pause between pages read from disk.
        return _submissions(day, cats, options.model_copy(update={"delay_seconds": 0}), window, session)
    except CacheMiss as miss:
        logger.info("%s; reading %s from the arXiv API again", miss, day)
        return None


def fetch_api_day(day: dt.date, listing: ListingOptions, *, refresh: bool = False) -> Fetched:
    """Return the new submissions of announcement day ``day`` in ``categories``, oldest first, and origin.

    Papers whose first version (``published``) is outside the window are dropped: those before
    it are replacements. With ``cache_dir``, the raw responses of a non-empty day are written to
    ``cache_dir/<day>/`` once all pages arrived, and a later call replays them without the
    network unless ``refresh``. Raises NoAnnouncement for a date without a listing (no request
    made), ListingUnavailable when the endpoint stays down, ListingError for a rejected query, a
    malformed answer, more than ``options.max_results`` submissions, or an unwritable cache;
    `ListingNotIndexed` when the API answers no submission in ``categories`` in the day's window.
    """
    options, cache_dir = listing.api, listing.cache_dir
    cats = check_categories(listing.categories)
    try:
        window = submission_window(day, listing.holidays)
    except ValueError as err:
        raise NoAnnouncement(str(err)) from err
    cache = DayCache(cache_dir, day) if cache_dir is not None else None
    papers = _replay(cache, day, cats, options, window) if cache is not None and not refresh else None
    origin = options.endpoint
    if papers is not None and cache is not None:
        origin = f"{options.endpoint} (cached in {cache.dir})"
    else:
        recording = Recording()
        papers = _submissions(day, cats, options, window, ApiSession(options, recording=recording))
        # An empty answer may only mean the API is not updated yet: never freeze it.
        if cache is not None and papers:
            cache.commit(recording, route=API_ROUTE, categories=cats)
    if not papers:
        start, end = (t.astimezone(EASTERN) for t in window)
        raise ListingNotIndexed(
            f"the arXiv API has no submissions in {', '.join(cats)} for the listing of {day} "
            f"(window {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} US/Eastern); its index can lag "
            "the announcement by hours: retry later"
        )
    return Fetched(select(papers, cats, include_cross_lists=listing.include_cross_lists), origin)
