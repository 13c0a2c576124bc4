"""The arXiv API path against a local server replaying recorded Atom responses, with faults."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from ribao.errors import ListingError, ListingNotIndexed, ListingUnavailable, NoAnnouncement
from ribao.sources import read_listing
from ribao.sources.api import build_query, retry_after_seconds
from ribao.sources.options import ListingOptions
from tests.support.arxiv import (
    CATS,
    DAY,
    EMPTY,
    ERROR_400,
    HANG,
    NOW,
    PAGE_0,
    ReplayServer,
    Reply,
    feed,
    fetch_day,
    options,
)


def test_reads_the_day_from_a_replayed_response(server: ReplayServer) -> None:
    listing = read_listing(ListingOptions("arxiv", categories=CATS, api=options(server)), DAY, now=NOW)
    assert listing.date == DAY
    assert listing.origin == server.url
    [paper] = listing.papers  # replacements and other days' submissions are dropped
    assert (paper.arxiv_id, paper.version) == ("2405.13786", 1)
    assert paper.primary_category == "cs.SE"
    assert paper.categories == ["cs.SE", "cs.AI"]
    assert paper.announced == DAY
    assert paper.published == dt.datetime(2024, 5, 22, 16, 11, 45, tzinfo=dt.UTC)
    [request] = server.seen
    assert (
        request.query["search_query"]
        == "(cat:cs.SE OR cat:cs.AI) AND submittedDate:[202405211800 TO 202405231800]"
    )
    assert request.query["sortBy"] == "submittedDate"
    assert request.query["sortOrder"] == "ascending"
    assert request.query["max_results"] == "1000"


def test_cross_lists_can_be_left_out(server: ReplayServer) -> None:
    opts = options(server)
    assert [p.arxiv_id for p in fetch_day(DAY, ListingOptions(categories=["cs.AI"], api=opts))] == [
        "2405.13786"
    ]
    assert fetch_day(DAY, ListingOptions(categories=["cs.AI"], include_cross_lists=False, api=opts)) == []


def test_pages_are_fetched_at_least_delay_seconds_apart(server: ReplayServer) -> None:
    server.script = [
        Reply(body=feed("arxivpy_api_q_testing_s0_m10_bc5a6c384fe9.xml", total=20)),
        Reply(body=feed("arxivpy_api_q_testing_s10_m10_34e56e15aaac.xml", total=20)),
    ]
    # 2407.18756v1 (second page) was submitted Fri 26 Jul 2024 10:10 EDT: Monday 29 July's listing.
    papers = fetch_day(
        dt.date(2024, 7, 29),
        ListingOptions(categories=CATS, api=options(server, page_size=10, delay_seconds=0.3)),
    )
    assert [p.arxiv_id for p in papers] == ["2407.18756"]
    assert [s.query["start"] for s in server.seen] == ["0", "10"]
    assert all(s.query["max_results"] == "10" for s in server.seen)
    assert server.gaps()[0] >= 0.3


def test_429_is_retried_then_succeeds(server: ReplayServer) -> None:
    server.script = [Reply(status=429, body=b"Too Many Requests"), Reply()]
    papers = fetch_day(DAY, ListingOptions(categories=CATS, api=options(server)))
    assert [p.arxiv_id for p in papers] == ["2405.13786"]
    assert len(server.seen) == 2


def test_503_retry_honours_retry_after(server: ReplayServer) -> None:
    server.script = [Reply(status=503, body=b"busy", headers={"Retry-After": "1"}), Reply()]
    papers = fetch_day(DAY, ListingOptions(categories=CATS, api=options(server, backoff_seconds=0.01)))
    assert [p.arxiv_id for p in papers] == ["2405.13786"]
    assert len(server.seen) == 2
    # At least the second asked for; the upper bound only rules out a misread unit (a minute), since a
    # busy machine adds its own delay between the two requests.
    assert 1.0 <= server.gaps()[0] < 30


def test_endpoint_that_stays_down_is_unavailable_and_named(server: ReplayServer) -> None:
    server.script = [Reply(status=503, body=b"down")]
    with pytest.raises(ListingUnavailable) as caught:
        fetch_day(DAY, ListingOptions(categories=CATS, api=options(server, retries=2)))
    assert server.url in str(caught.value)
    assert "after 3 tries: HTTP 503" in str(caught.value)
    assert len(server.seen) == 3
    assert min(server.gaps()) >= 0.01


def test_retry_after_longer_than_the_limit_gives_up_at_once(server: ReplayServer) -> None:
    server.script = [Reply(status=503, body=b"down", headers={"Retry-After": "3600"})]
    with pytest.raises(ListingUnavailable, match="Retry-After 3600 s is longer than max_wait_seconds=120"):
        fetch_day(DAY, ListingOptions(categories=CATS, api=options(server)))
    assert len(server.seen) == 1


def test_a_server_that_never_answers_times_out(server: ReplayServer) -> None:
    server.script = [HANG]
    with pytest.raises(ListingUnavailable) as caught:
        fetch_day(DAY, ListingOptions(categories=CATS, api=options(server, timeout_seconds=0.3, retries=0)))
    assert len(server.seen) == 1  # one try, cut by the timeout
    assert server.url in str(caught.value)
    assert "ReadTimeout (no answer within 0.3 s)" in str(caught.value)


def test_malformed_xml_is_a_listing_error(server: ReplayServer) -> None:
    server.script = [Reply(body=PAGE_0[:5000])]
    with pytest.raises(ListingError, match=r"malformed XML, .*line \d+") as caught:
        fetch_day(DAY, ListingOptions(categories=CATS, api=options(server)))
    assert server.url in str(caught.value)
    assert len(server.seen) == 1


def test_error_feed_of_a_400_is_a_listing_error_without_retries(server: ReplayServer) -> None:
    server.script = [Reply(status=400, body=ERROR_400)]
    with pytest.raises(ListingError, match="HTTP 400.*incorrect id format for abc"):
        fetch_day(DAY, ListingOptions(categories=CATS, api=options(server)))
    assert len(server.seen) == 1


def test_empty_api_answer_for_a_past_weekday_is_not_indexed_not_no_announcement(server: ReplayServer) -> None:
    # The API index lags the announcement: an empty answer is retryable, with its own exit status.
    server.script = [Reply(body=EMPTY)]
    with pytest.raises(ListingNotIndexed, match="retry later") as caught:
        read_listing(ListingOptions("arxiv", categories=CATS, api=options(server)), DAY, now=NOW)
    assert not isinstance(caught.value, NoAnnouncement)
    assert caught.value.exit_code == 4


def test_more_results_than_the_cap_is_an_error(server: ReplayServer) -> None:
    with pytest.raises(ListingError, match="more than 5 submissions"):
        fetch_day(DAY, ListingOptions(categories=CATS, api=options(server, max_results=5)))
    assert server.seen[0].query["max_results"] == "6"


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (dt.date(2024, 5, 25), "weekend"),  # Saturday
        (dt.date(2024, 7, 5), "holiday"),  # after the evening of Independence Day
        (dt.date(2024, 5, 23), "evening of Wed 2024-05-22"),  # arXiv's 2024 list
        (dt.date(2026, 3, 2), "not out yet"),  # Monday after NOW
    ],
)
def test_days_without_listing_never_touch_the_network(
    server: ReplayServer, day: dt.date, message: str
) -> None:
    with pytest.raises(NoAnnouncement, match=message):
        read_listing(ListingOptions("arxiv", categories=CATS, api=options(server)), day, now=NOW)
    assert server.seen == []


def test_without_a_date_the_api_reads_the_latest_announcement_day(server: ReplayServer) -> None:
    server.script = [Reply(body=EMPTY)]
    # NOW is Sunday 1 March 2026, 12:00 UTC: the latest listing is Friday 27 February's.
    # With the listing feed turned off the latest day comes from the API too.
    with pytest.raises(ListingNotIndexed, match="2026-02-27"):
        read_listing(ListingOptions("arxiv", categories=CATS, api=options(server, rss=False)), None, now=NOW)
    assert len(server.seen) == 1
    assert "submittedDate:[202602251900 TO 202602261900]" in server.seen[0].query["search_query"]


def test_mojibake_through_the_arxiv_client_is_repaired(server: ReplayServer) -> None:
    server.script = [Reply(body=feed("arxivpy_api_q_testing_s0_m100_cfe7536492ca.xml", total=100))]
    # 2306.03845v1 was submitted Tue 6 Jun 2023 12:32 EDT: Wednesday 7 June's listing.
    papers = fetch_day(dt.date(2023, 6, 7), ListingOptions(categories=["cs.SE"], api=options(server)))
    assert [p.arxiv_id for p in papers] == ["2306.03845"]
    assert papers[0].title_display.startswith("ωTest: WebView-Oriented Testing")


def test_build_query_uses_gmt_minutes() -> None:
    start = dt.datetime(2026, 2, 16, 19, 0, tzinfo=dt.UTC)
    end = dt.datetime(2026, 2, 17, 19, 0, tzinfo=dt.UTC)
    assert build_query(["cs.CL", "cs.LG"], start, end) == (
        "(cat:cs.CL OR cat:cs.LG) AND submittedDate:[202602161900 TO 202602171900]"
    )


def test_retry_after_header_forms() -> None:
    def response(value: str | None) -> requests.Response:
        r = requests.Response()
        if value is not None:
            r.headers["Retry-After"] = value
        return r

    assert retry_after_seconds(response("7")) == 7.0
    assert retry_after_seconds(response(None)) is None
    assert retry_after_seconds(response("soon")) is None
    in_a_minute = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60)
    assert 55 <= retry_after_seconds(response(in_a_minute.strftime("%a, %d %b %Y %H:%M:%S GMT"))) <= 60
