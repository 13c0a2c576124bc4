"""Read the latest announcement day from arXiv's listing feed (RSS 2.0, ``rss.arxiv.org``).

The feed ``<rss_endpoint>/<cat1>+<cat2>+…`` holds exactly one listing: the latest. Its channel
``pubDate`` is the announcement day (midnight US/Eastern of the date printed on the listing);
each item carries ``arxiv:announce_type`` (``new``, ``cross``, ``replace``, ``replace-cross``), the
versioned id in ``<guid>`` (``oai:arXiv.org:2602.15763v1``), the abstract in ``<description>``
after an ``arXiv:… Announce Type: … Abstract:`` preamble, the authors comma-separated in
``dc:creator`` and the categories, primary first, in ``<category>``. ribao keeps ``new`` and
``cross`` items (``cross`` only with cross-lists on) and never replacements.

Limits: the feed has no author comments and no submission times, so a paper's ``comment`` and
``published`` are empty and a code link given only in the comment is not found. arXiv rebuilds the
feed at midnight US/Eastern, four hours after the 20:00 announcement, and leaves it empty on
weekends and holidays: a feed dated another day than the one asked for raises `FeedNotOfDay`,
which the caller answers by reading the day from the API instead.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import feedparser

from ribao.errors import ListingError
from ribao.schemas import Paper
from ribao.sources.api import Fetched
from ribao.sources.cache import CacheMiss, DayCache, Recording
from ribao.sources.calendar import EASTERN
from ribao.sources.records import build_paper, check_categories, dedupe, select
from ribao.sources.session import ApiOptions, ApiSession

logger = logging.getLogger(__name__)

RSS_ROUTE = "rss"
ANNOUNCE_TYPES = frozenset({"new", "cross", "replace", "replace-cross"})
_PREAMBLE_RE = re.compile(r"^\s*arXiv:\S+\s+Announce Type:\s*\S+\s*(?:Abstract:\s*)?", re.IGNORECASE)


class FeedNotOfDay(ListingError):
    """The feed holds the listing of another day than the one asked for (``feed_day``)."""

    def __init__(self, message: str, feed_day: dt.date) -> None:
        super().__init__(message)
        self.feed_day = feed_day


class FeedItem(NamedTuple):
    """One item of the feed: the paper and how it was announced (``new``, ``cross``, …)."""

    paper: Paper
    announce_type: str


class Feed(NamedTuple):
    """A parsed listing feed: its announcement day and all its items, in feed order."""

    day: dt.date
    items: list[FeedItem]


def feed_url(options: ApiOptions, categories: Sequence[str]) -> str:
    """Return the feed URL of ``categories``: ``https://rss.arxiv.org/rss/cs.CL+cs.AI``."""
    return f"{options.rss_endpoint.rstrip('/')}/{'+'.join(categories)}"


def check_rss(content: bytes, origin: str) -> None:
    """Raise ListingError naming ``origin`` unless ``content`` is well-formed XML with an ``<rss>`` root."""
    try:
        root = ET.fromstring(content)
    except ET.ParseError as err:
        raise ListingError(f"{origin}: malformed XML, {err}") from err
    if root.tag != "rss" or root.find("channel") is None:
        raise ListingError(f"{origin}: not an RSS feed (root element is <{root.tag}>)")


class RssSession(ApiSession):
    """`ApiSession` (timeout, retries on 429/5xx with Retry-After) for the listing feed."""

    def check_body(self, content: bytes) -> None:
        """Raise ListingError unless ``content`` is an RSS feed."""
        check_rss(content, self.origin)

    def rejection_message(self, content: bytes) -> str | None:
        """Return None: the feed's error pages carry no machine-readable message."""
        return None


def _feed_day(channel: Any, origin: str) -> dt.date:
    """Return the channel's announcement day: its ``pubDate`` (else ``lastBuildDate``) in US/Eastern."""
    for key in ("published", "updated"):  # feedparser's names of pubDate and lastBuildDate
        raw = channel.get(key)
        if not raw:
            continue
        try:
            stamp = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError) as err:
            raise ListingError(f"{origin}: unreadable channel date {raw!r}") from err
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.UTC)
        return stamp.astimezone(EASTERN).date()
    raise ListingError(f"{origin}: the channel has no pubDate or lastBuildDate, so no announcement day")


def _authors(entry: Any) -> list[str]:
    """Return the item's authors from the comma-separated ``dc:creator``."""
    names = [a.get("name", "") for a in entry.get("authors", [])] or [entry.get("author", "")]
    return [part.strip() for name in names for part in name.split(",") if part.strip()]


def _item(entry: Any, day: dt.date) -> FeedItem:
    """Return one feed item; raise ValueError or KeyError on a missing id, type or category."""
    announce_type = str(entry.get("arxiv_announce_type", "")).strip().lower()
    if not announce_type:
        raise ValueError("no arxiv:announce_type")
    paper = build_paper(
        raw_id=entry.get("id") or entry["link"],
        title=entry.get("title", ""),
        authors=_authors(entry),
        abstract=_PREAMBLE_RE.sub("", entry.get("summary", "")),
        categories=[tag["term"] for tag in entry.get("tags", []) if tag.get("term")],
        announced=day,
    )
    return FeedItem(paper, announce_type)


def parse_feed(content: bytes, origin: str) -> Feed:
    """Return the announcement day and every item of a listing feed (an item-less feed gives []).

    Raises ListingError naming ``origin`` for malformed XML, a non-RSS document, a channel
    without a date, or an item without a usable id, announce type or category.
    """
    check_rss(content, origin)
    # Descriptions are plain text: HTML sanitising would eat "$a<b$" as a tag.
    parsed = feedparser.parse(content, sanitize_html=False, resolve_relative_uris=False)
    day = _feed_day(parsed.feed, origin)
    items = []
    for number, entry in enumerate(parsed.entries, start=1):
        try:
            items.append(_item(entry, day))
        except (KeyError, ValueError) as err:
            raise ListingError(f"{origin}: item {number} is unusable: {err}") from err
    unknown = {i.announce_type for i in items} - ANNOUNCE_TYPES
    if unknown:
        logger.warning("%s: skipping items of unknown announce type %s", origin, ", ".join(sorted(unknown)))
    return Feed(day, items)


def listed_papers(feed: Feed, categories: Sequence[str], *, include_cross_lists: bool = True) -> list[Paper]:
    """Return the feed's new submissions and (with ``include_cross_lists``) cross-lists in ``categories``."""
    kept = {"new", "cross"} if include_cross_lists else {"new"}
    papers = dedupe(i.paper for i in feed.items if i.announce_type in kept)
    return select(papers, categories, include_cross_lists=include_cross_lists)


def _cached_feed(cache: DayCache, url: str) -> bytes | None:
    """Return the feed body cached for the day, None when the cache cannot answer."""
    session = cache.replay(RSS_ROUTE)
    if session is None:
        return None
    try:
        return session.get(url).content
    except CacheMiss as miss:
        logger.info("%s; reading the arXiv listing feed again", miss)
        return None


def fetch_rss_day(
    day: dt.date,
    categories: Sequence[str],
    *,
    include_cross_lists: bool = True,
    options: ApiOptions | None = None,
    cache_dir: Path | None = None,
    refresh: bool = False,
) -> Fetched:
    """Return the listing dated ``day`` from the listing feed, and the feed URL it came from.

    With ``cache_dir`` the feed of a non-empty day is cached in ``cache_dir/<day>/`` and replayed
    later without the network, unless ``refresh``. Raises FeedNotOfDay when the feed holds another
    day (nothing is cached then), ListingUnavailable when the feed stays down after the retries,
    ListingError for a rejected request, a malformed feed or an unwritable cache.
    """
    options = options or ApiOptions()
    cats = check_categories(categories)
    url = feed_url(options, cats)
    cache = DayCache(cache_dir, day) if cache_dir is not None else None
    content = _cached_feed(cache, url) if cache is not None and not refresh else None
    replayed = content is not None
    origin = f"{url} (cached in {cache.dir})" if replayed and cache is not None else url
    recording = Recording()
    if content is None:
        with RssSession(options, origin=f"arXiv listing feed at {url}", recording=recording) as session:
            content = session.get(url).content
    feed = parse_feed(content, origin)
    if feed.day != day:
        raise FeedNotOfDay(
            f"the arXiv listing feed at {origin} holds the listing of {feed.day}, not {day}", feed.day
        )
    # An empty feed for the day means no announcement, or one not out yet: never freeze it.
    if cache is not None and not replayed and listed_papers(feed, cats):
        cache.commit(recording, route=RSS_ROUTE, categories=cats)
    return Fetched(listed_papers(feed, cats, include_cross_lists=include_cross_lists), origin)
