"""The listing feed (ribao.sources.rss) and when it is used, against hand-written feeds on a local server."""

from __future__ import annotations

import datetime as dt

import pytest

from ribao.errors import ListingError, ListingNotIndexed, ListingUnavailable, NoAnnouncement
from ribao.sources import ApiOptions, read_listing
from ribao.sources.options import ListingOptions
from ribao.sources.rss import feed_url, listed_papers, parse_feed
from tests.support.arxiv import (
    EMPTY,
    HANG,
    PAGE_0,
    ReplayServer,
    Reply,
    options,
)
from tests.support.feeds import (
    CROSS,
    D19,
    EMPTY_FEED,
    FEED,
    NEW,
    OURS,
    THU_NOON,
    UTC,
)


def test_feed_gives_its_day_and_every_announce_type() -> None:
    feed = parse_feed(FEED, "fixture")
    assert feed.day == D19
    assert [(i.paper.arxiv_id, i.paper.version, i.announce_type) for i in feed.items] == [
        ("2602.16198", 1, "new"),
        ("2602.16531", 1, "new"),
        ("2602.15877", 1, "new"),
        ("2602.16438", 1, "new"),
        ("2602.15927", 1, "cross"),
        ("2601.08282", 2, "replace"),
        ("2601.08867", 2, "replace-cross"),
    ]
    assert all(i.paper.announced == D19 for i in feed.items)


@pytest.mark.parametrize(("cross_lists", "expected"), [(True, NEW + CROSS), (False, NEW)])
def test_new_and_cross_lists_are_kept_never_replacements(cross_lists: bool, expected: list[str]) -> None:
    papers = listed_papers(parse_feed(FEED, "fixture"), OURS, include_cross_lists=cross_lists)
    assert [p.arxiv_id for p in papers] == expected


def test_category_filter_applies_to_the_feed() -> None:
    feed = parse_feed(FEED, "fixture")
    assert [p.arxiv_id for p in listed_papers(feed, ["cs.AI"])] == ["2602.15877", "2602.16438"]
    assert listed_papers(feed, ["cs.NE"], include_cross_lists=False) == []


def test_item_fields_are_normalised() -> None:
    papers = {i.paper.arxiv_id: i.paper for i in parse_feed(FEED, "fixture").items}
    doob = papers["2602.16198"]
    assert doob.title == "Training-Free Adaptation of Diffusion Models via Doob's $h$-Transform"
    assert doob.title_display == "Training-Free Adaptation of Diffusion Models via Doob's h-Transform"
    assert doob.authors == ["Qijie Zhu", "Zeqi Ye", "Han Liu", "Zhaoran Wang", "Minshuo Chen"]
    assert doob.abstract.startswith("Adaptation methods have been a workhorse")  # preamble gone
    assert (doob.comment, doob.published) == (None, None)  # the feed has neither
    assert papers["2602.16531"].abstract.count("\n") == 2  # three paragraphs
    assert "($p< 0.001$ across all models)" in papers["2602.16438"].abstract
    gam = papers["2602.15877"]
    assert gam.categories == ["cs.LG", "cs.AI", "cs.NE"] and gam.primary_category == "cs.LG"
    assert gam.code_url == "https://github.com/KaaustaaubShankar/GeneticAdditiveModels"
    cross = papers["2602.15927"]
    assert cross.primary_category == "cs.CV"
    assert cross.code_url == "https://github.com/chs20/visual-memory-injection"


def test_an_empty_feed_has_a_day_and_no_items() -> None:
    feed = parse_feed(EMPTY_FEED, "fixture")
    assert (feed.day, feed.items) == (dt.date(2026, 2, 21), [])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (FEED[:3000], r"fixture: malformed XML, .*line \d+"),
        (PAGE_0, "not an arXiv listing feed"),
        (FEED.replace(b"<arxiv:announce_type>cross</arxiv:announce_type>", b""), "item 5.*announce_type"),
        (
            FEED.replace(b"<pubDate>", b"<x>").replace(b"</pubDate>", b"</x>").replace(b"lastBuild", b"x"),
            "no pubDate",
        ),
    ],
)
def test_bad_feeds_are_listing_errors(content: bytes, message: str) -> None:
    with pytest.raises(ListingError, match=message):
        parse_feed(content, "fixture")


def test_feed_url_joins_categories() -> None:
    assert feed_url(ApiOptions(), OURS) == "https://rss.arxiv.org/rss/cs.CL+cs.AI+cs.LG"
    assert feed_url(ApiOptions(rss_endpoint="http://mirror/rss/"), ["cs.CL"]) == "http://mirror/rss/cs.CL"


def test_the_latest_day_comes_from_the_feed(server: ReplayServer) -> None:
    server.script = [Reply(body=FEED)]
    listing = read_listing(ListingOptions("arxiv", categories=OURS, api=options(server)), None, now=THU_NOON)
    assert listing.date == D19
    assert [p.arxiv_id for p in listing.papers] == NEW + CROSS
    assert listing.origin == f"{server.base}/rss/cs.CL+cs.AI+cs.LG"
    assert [s.path for s in server.seen] == ["/rss/cs.CL+cs.AI+cs.LG"]


def test_earlier_days_come_from_the_api(server: ReplayServer) -> None:
    server.script = [Reply(body=EMPTY)]
    with pytest.raises(ListingNotIndexed):
        read_listing(
            ListingOptions("arxiv", categories=OURS, api=options(server)), dt.date(2026, 2, 18), now=THU_NOON
        )
    assert [s.path for s in server.seen] == ["/api/query"]


@pytest.mark.parametrize(
    ("now", "day", "body"),
    [
        # Thursday 19 Feb, 22:00 US/Eastern: Friday's listing is out, but the feed is rebuilt only
        # at midnight and still holds Thursday's.
        (dt.datetime(2026, 2, 20, 3, 0, tzinfo=UTC), dt.date(2026, 2, 20), FEED),
        # Saturday: the latest listing is Friday's, the feed is Saturday's empty one.
        (dt.datetime(2026, 2, 21, 12, 0, tzinfo=UTC), dt.date(2026, 2, 20), EMPTY_FEED),
    ],
)
def test_a_feed_of_another_day_falls_back_to_the_api(
    server: ReplayServer, now: dt.datetime, day: dt.date, body: bytes
) -> None:
    server.script = [Reply(body=body), Reply(body=EMPTY)]
    with pytest.raises(ListingNotIndexed) as caught:
        read_listing(ListingOptions("arxiv", categories=OURS, api=options(server)), None, now=now)
    assert [s.path for s in server.seen] == ["/rss/cs.CL+cs.AI+cs.LG", "/api/query"]
    assert f"listing of {day} " in str(caught.value)
    assert "(the listing feed held " in str(caught.value)
    assert "submittedDate:" in server.seen[1].query["search_query"]


def test_an_empty_feed_of_the_day_is_no_announcement_without_the_api(server: ReplayServer) -> None:
    # A weekday arXiv skipped without our holiday list knowing: an empty feed dated that day.
    server.script = [Reply(body=EMPTY_FEED.replace(b"Sat, 21 Feb", b"Fri, 20 Feb"))]
    friday = dt.datetime(2026, 2, 20, 12, 0, tzinfo=UTC)
    with pytest.raises(NoAnnouncement, match=r"no papers .* on 2026-02-20 from .*/rss/"):
        read_listing(ListingOptions("arxiv", categories=OURS, api=options(server)), None, now=friday)
    assert len(server.seen) == 1


def test_feed_429_is_retried_then_succeeds(server: ReplayServer) -> None:
    # The same ApiSession as the API: Retry-After handling is tested there.
    server.script = [Reply(status=429, body=b"Too Many Requests"), Reply(body=FEED)]
    listing = read_listing(ListingOptions("arxiv", categories=OURS, api=options(server)), None, now=THU_NOON)
    assert len(listing.papers) == 5
    assert [s.path for s in server.seen] == ["/rss/cs.CL+cs.AI+cs.LG"] * 2


def test_feed_that_stays_down_is_unavailable_and_named(server: ReplayServer) -> None:
    server.script = [Reply(status=503, body=b"down")]
    with pytest.raises(ListingUnavailable, match=r"arXiv listing feed at .*/rss/.* after 3 tries: HTTP 503"):
        read_listing(
            ListingOptions("arxiv", categories=OURS, api=options(server, retries=2)), None, now=THU_NOON
        )
    assert len(server.seen) == 3


def test_feed_that_never_answers_times_out(server: ReplayServer) -> None:
    server.script = [HANG]
    with pytest.raises(ListingUnavailable, match=r"ReadTimeout \(no answer within 0.3 s\)"):
        read_listing(
            ListingOptions("arxiv", categories=OURS, api=options(server, timeout_seconds=0.3, retries=0)),
            None,
            now=THU_NOON,
        )
    assert len(server.seen) == 1  # one try, cut by the timeout


def test_feed_404_is_a_listing_error_without_retries(server: ReplayServer) -> None:
    server.script = [Reply(status=404, body=b"<html>Not Found</html>")]
    with pytest.raises(ListingError, match=r"rejected the query \(HTTP 404\)"):
        read_listing(ListingOptions("arxiv", categories=OURS, api=options(server)), None, now=THU_NOON)
    assert len(server.seen) == 1
