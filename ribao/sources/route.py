"""Choose how to read one announcement day from arXiv: its cache, the listing feed, or the API.

1. A day whose raw responses are cached (``<cache_dir>/<D>/manifest.json``) is replayed from the
   cache through the route it was first read by, with no request, unless ``refresh``.
2. The latest announcement day (`latest_announcement_day` at ``now``) is read from the listing
   feed (`rss`): the exact listing, with announce types, but without comments.
3. Earlier days are read from the API (`api`): the submissions of the day's window, an
   approximation of the listing (cross-lists of older papers missed, moderation delays).
4. When the feed holds another day than the latest (it is rebuilt at midnight US/Eastern, four
   hours after the announcement, and is empty on weekends and holidays) the day is read from the
   API instead, after the usual pause, and the listing's source says why.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from ribao.errors import ListingNotIndexed
from ribao.sources.api import Fetched, fetch_api_day
from ribao.sources.cache import DayCache
from ribao.sources.options import ListingOptions
from ribao.sources.rss import RSS_ROUTE, FeedNotOfDay, fetch_rss_day

logger = logging.getLogger(__name__)


def read_arxiv_day(
    day: dt.date, options: ListingOptions, *, latest: dt.date, refresh: bool = False
) -> Fetched:
    """Return the papers of announcement day ``day`` and their origin, by the rules above.

    ``latest`` is the newest announcement day at the time of the call. Raises what
    `fetch_rss_day` and `fetch_api_day` raise, except `FeedNotOfDay`.
    """
    cache_dir = options.cache_dir
    cached_route = DayCache(cache_dir, day).route() if cache_dir is not None and not refresh else None
    use_feed = cached_route == RSS_ROUTE or (cached_route is None and options.api.rss and day == latest)
    note = ""
    if use_feed:
        try:
            return fetch_rss_day(day, options, refresh=refresh)
        except FeedNotOfDay as err:
            logger.warning("%s; reading %s from the arXiv API instead", err, day)
            note = f" (the listing feed held {err.feed_day}, not {day})"
            time.sleep(options.api.delay_seconds)  # one request per delay_seconds, across arXiv's hosts
    try:
        fetched = fetch_api_day(day, options, refresh=refresh)
    except ListingNotIndexed as err:
        raise ListingNotIndexed(f"{err}{note}") from None
    return Fetched(fetched.papers, fetched.origin + note)
