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
from typing import Any, NamedTuple

from ribao.errors import FeedNotOfDay, ListingError
from ribao.schemas import Paper
from ribao.sources import normalize
from ribao.sources.api import Fetched
from ribao.sources.cache import CacheMiss, DayCache, Recording
from ribao.sources.calendar import EASTERN
from ribao.sources.options import ListingOptions
from ribao.sources.records import build_paper, check_categories, dedupe, select
from ribao.sources.session import ApiOptions, ApiSession

logger = logging.getLogger(__name__)

RSS_ROUTE = "rss"
ANNOUNCE_TYPES = frozenset({"new", "cross", "replace", "replace-cross"})
_PREAMBLE_RE = re.compile(r"^\s*arXiv:\S+\s+Announce Type:\s*\S+\s*(?:Abstract:\s*)?", re.IGNORECASE)


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


RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF"
_ATOM_FEED = "{http://www.w3.org/2005/Atom}feed"
_ANNOUNCE_TAG = "{http://arxiv.org/schemas/atom}announce_type"
_ERROR_TITLE = "Feed error for query"


def _root(content: bytes, origin: str) -> ET.Element:
    """Return the XML root of ``content``; raise ListingError naming ``origin`` on malformed XML."""
    try:
        return ET.fromstring(content)
    except ET.ParseError as err:
        raise ListingError(f"{origin}: malformed XML, {err}") from err


def is_listing_feed(root: ET.Element) -> bool:
    """Return True for a listing feed of rss.arxiv.org: RSS 2.0, or Atom whose entries have announce types.

    An Atom document without ``arxiv:announce_type`` is an API response (`atom`), not a listing.
    """
    return root.tag == "rss" or (root.tag == _ATOM_FEED and root.find(f".//{_ANNOUNCE_TAG}") is not None)


def feed_error(root: ET.Element) -> str | None:
    """Return the text of arXiv's error feed (``Bad archive 'astroph'. Valid archive names …``), or None."""
    channel = root.find("channel")
    if channel is None or not (channel.findtext("title") or "").startswith(_ERROR_TITLE):
        return None
    return " ".join((channel.findtext("description") or "unspecified error").split())


def check_listing_feed(content: bytes, origin: str) -> ET.Element:
    """Return the root of a listing feed (RSS 2.0 or arXiv's Atom listing); raise ListingError otherwise.

    The one-line message names ``origin`` and says what came instead: malformed XML, arXiv's error
    feed (its own text), the old RSS 1.0 (RDF) format of before February 2024, or another document.
    """
    root = _root(content, origin)
    if root.tag == RDF:
        raise ListingError(
            f"{origin}: the old RSS 1.0 (RDF) listing format, used by arXiv before February 2024, is not "
            "supported; use an RSS 2.0 or Atom listing from rss.arxiv.org"
        )
    message = feed_error(root)
    if message is not None:
        raise ListingError(f"{origin}: arXiv's listing feed reported an error: {message}")
    if not is_listing_feed(root) or (root.tag == "rss" and root.find("channel") is None):
        raise ListingError(f"{origin}: not an arXiv listing feed (root element is <{root.tag}>)")
    return root


def check_rss(content: bytes, origin: str) -> None:
    """Raise ListingError naming ``origin`` unless ``content`` is a listing feed (`check_listing_feed`)."""
    check_listing_feed(content, origin)


class RssSession(ApiSession):
    """`ApiSession` (timeout, retries on 429/5xx with Retry-After) for the listing feed."""

    def check_body(self, content: bytes) -> None:
        """Raise ListingError unless ``content`` is an RSS feed."""
        check_rss(content, self.origin)

    def rejection_message(self, content: bytes) -> str | None:
        """Return the text of arXiv's error feed (served with HTTP 400), if the body is one."""
        try:
            return feed_error(ET.fromstring(content))
        except ET.ParseError:
            return None


def _stamp(raw: str) -> dt.datetime:
    """Parse an RFC 822 (RSS) or ISO 8601 (Atom) date; naive means UTC. Raises ValueError."""
    try:
        stamp = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        stamp = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=dt.UTC)


def _feed_day(channel: Any, origin: str) -> dt.date:
    """Return the channel's announcement day: its ``pubDate`` (else ``lastBuildDate``) in US/Eastern."""
    for key in ("published", "updated"):  # feedparser's names of pubDate and lastBuildDate
        raw = channel.get(key)
        if not raw:
            continue
        try:
            stamp = _stamp(raw)
        except (TypeError, ValueError) as err:
            raise ListingError(f"{origin}: unreadable channel date {raw!r}") from err
        return stamp.astimezone(EASTERN).date()
    raise ListingError(f"{origin}: the channel has no pubDate or lastBuildDate, so no announcement day")


_AFFILIATION_RE = re.compile(r"\s*\([^()]*\)\s*$")


def split_authors(creator: str) -> list[str]:
    """Split arXiv's ``dc:creator`` into author names, LaTeX rendered, affiliations dropped.

    Commas inside parentheses belong to an affiliation (``Ana Li (MIT, CSAIL), Bo Wu`` is two
    authors: ``Ana Li``, ``Bo Wu``); ``J\\"org Pi\\v{z}urica`` becomes ``Jörg Pižurica`` as on the API path.
    """
    names: list[str] = []
    part: list[str] = []
    depth = 0
    for char in creator:
        depth += (char == "(") - (char == ")")
        if char == "," and depth <= 0:
            names.append("".join(part))
            part = []
            depth = 0
        else:
            part.append(char)
    names.append("".join(part))
    rendered = (normalize.one_line(normalize.latex_to_text(_AFFILIATION_RE.sub("", n))) for n in names)
    return [name for name in rendered if name]


def _authors(entry: Any) -> list[str]:
    """Return the item's authors from ``dc:creator`` (one comma-separated string) or Atom ``<author>``s."""
    names = [a.get("name", "") for a in entry.get("authors", [])] or [entry.get("author", "")]
    return [author for name in names for author in split_authors(name)]


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

    Reads RSS 2.0 and arXiv's Atom form of the listing. Raises ListingError naming ``origin`` for
    malformed XML, arXiv's error feed, the old RSS 1.0 format, another document, a channel without
    a date, or an item without a usable id, announce type or category.
    """
    import feedparser  # imported when a feed is read, not by every run that reads a saved listing

    check_listing_feed(content, origin)
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


def fetch_rss_day(day: dt.date, listing: ListingOptions, *, refresh: bool = False) -> Fetched:
    """Return the listing dated ``day`` from the listing feed, and the feed URL it came from.

    With ``listing.cache_dir`` the feed of a non-empty day is cached in ``cache_dir/<day>/`` and replayed
    later without the network, unless ``refresh``. Raises FeedNotOfDay when the feed holds another
    day (nothing is cached then), ListingUnavailable when the feed stays down after the retries,
    ListingError for a rejected request, a malformed feed or an unwritable cache.
    """
    options, cache_dir = listing.api, listing.cache_dir
    cats = check_categories(listing.categories)
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
    return Fetched(listed_papers(feed, cats, include_cross_lists=listing.include_cross_lists), origin)
