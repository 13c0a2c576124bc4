"""The per-day cache of raw arXiv responses (ribao.sources.cache): write, offline replay, refresh, faults."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

from ribao.errors import ListingError, ListingNotIndexed, ListingUnavailable
from ribao.sources import read_listing
from ribao.sources.cache import MANIFEST, DayCache, body_name
from ribao.sources.options import ListingOptions
from tests.support.arxiv import (
    CATS,
    DAY,
    EMPTY,
    NOW,
    PAGE_0,
    ReplayServer,
    Reply,
    feed,
    fetch_day,
    options,
)
from tests.support.feeds import D19, FEED, NEW, OURS, THU_NOON

UTC = dt.UTC


def manifest(cache_dir: Path, day: dt.date) -> dict:
    return json.loads((cache_dir / day.isoformat() / MANIFEST).read_text(encoding="utf-8"))


def test_api_day_is_cached_then_replayed_without_requests(server: ReplayServer, tmp_path: Path) -> None:
    first = read_listing(
        ListingOptions("arxiv", categories=CATS, api=options(server), cache_dir=tmp_path), DAY, now=NOW
    )
    assert len(server.seen) == 1
    saved = manifest(tmp_path, DAY)
    assert (saved["day"], saved["route"], saved["categories"]) == ("2024-05-24", "api", CATS)
    [(url, entry)] = saved["responses"].items()
    assert url.startswith(server.url + "?search_query=")
    assert entry["status"] == 200 and entry["file"] == body_name(url)
    assert (tmp_path / "2024-05-24" / entry["file"]).read_bytes() == PAGE_0
    assert dt.datetime.fromisoformat(entry["fetched_at"]).tzinfo is not None

    server.seen.clear()
    again = read_listing(
        ListingOptions("arxiv", categories=CATS, api=options(server), cache_dir=tmp_path), DAY, now=NOW
    )
    assert server.seen == []
    assert again.papers == first.papers
    assert again.origin == f"{server.url} (cached in {tmp_path / '2024-05-24'})"
    # Cross-lists are filtered after the cache: the same responses serve both settings.
    assert (
        fetch_day(
            DAY,
            ListingOptions(
                categories=["cs.AI"], include_cross_lists=False, api=options(server), cache_dir=tmp_path
            ),
        )
        == []
    )


def test_every_page_is_cached_and_replayed_without_the_pause(
    server: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.script = [
        Reply(body=feed("arxivpy_api_q_testing_s0_m10_bc5a6c384fe9.xml", total=20)),
        Reply(body=feed("arxivpy_api_q_testing_s10_m10_34e56e15aaac.xml", total=20)),
    ]
    day, opts = dt.date(2024, 7, 29), options(server, page_size=10, delay_seconds=0.3)
    papers = fetch_day(day, ListingOptions(categories=CATS, api=opts, cache_dir=tmp_path))
    assert len(manifest(tmp_path, day)["responses"]) == 2
    server.seen.clear()
    pauses: list[float] = []
    monkeypatch.setattr(time, "sleep", pauses.append)
    assert fetch_day(day, ListingOptions(categories=CATS, api=opts, cache_dir=tmp_path)) == papers
    assert server.seen == [] and pauses == []  # no request, so no pause between pages


def test_refresh_refetches_and_replaces_keeping_other_files(server: ReplayServer, tmp_path: Path) -> None:
    fetch_day(DAY, ListingOptions(categories=CATS, api=options(server), cache_dir=tmp_path))
    folder = tmp_path / "2024-05-24"
    (folder / "stars.json").write_text('{"repos": {}}', encoding="utf-8")
    marked = manifest(tmp_path, DAY) | {"written_at": "marker"}
    (folder / MANIFEST).write_text(json.dumps(marked), encoding="utf-8")
    fetch_day(DAY, ListingOptions(categories=CATS, api=options(server), cache_dir=tmp_path), refresh=True)
    assert len(server.seen) == 2
    assert manifest(tmp_path, DAY)["written_at"] != "marker"
    assert sorted(p.name for p in folder.iterdir()) == sorted([MANIFEST, "stars.json", *_bodies(folder)])
    assert [p.name for p in tmp_path.iterdir()] == ["2024-05-24"]  # no temporary folders left


def _bodies(folder: Path) -> list[str]:
    return [e["file"] for e in json.loads((folder / MANIFEST).read_text())["responses"].values()]


def test_a_failed_fetch_leaves_no_cache_for_the_day(server: ReplayServer, tmp_path: Path) -> None:
    server.script = [
        Reply(body=feed("arxivpy_api_q_testing_s0_m10_bc5a6c384fe9.xml", total=20)),
        Reply(status=503, body=b"down"),
    ]
    with pytest.raises(ListingUnavailable):
        fetch_day(
            dt.date(2024, 7, 29),
            ListingOptions(categories=CATS, api=options(server, page_size=10, retries=0), cache_dir=tmp_path),
        )
    assert len(server.seen) == 2  # the first page arrived, the second did not
    assert list(tmp_path.iterdir()) == []


def test_a_failed_refresh_keeps_the_earlier_cache(server: ReplayServer, tmp_path: Path) -> None:
    fetch_day(DAY, ListingOptions(categories=CATS, api=options(server), cache_dir=tmp_path))
    before = manifest(tmp_path, DAY)
    server.script = [Reply(status=503, body=b"down")]
    with pytest.raises(ListingUnavailable):
        fetch_day(
            DAY,
            ListingOptions(categories=CATS, api=options(server, retries=0), cache_dir=tmp_path),
            refresh=True,
        )
    assert manifest(tmp_path, DAY) == before


def test_an_empty_day_is_not_cached(server: ReplayServer, tmp_path: Path) -> None:
    server.script = [Reply(body=EMPTY)]
    with pytest.raises(ListingNotIndexed):
        read_listing(
            ListingOptions("arxiv", categories=CATS, api=options(server), cache_dir=tmp_path), DAY, now=NOW
        )
    assert list(tmp_path.iterdir()) == []


def test_other_categories_miss_the_cache_and_replace_it(server: ReplayServer, tmp_path: Path) -> None:
    fetch_day(DAY, ListingOptions(categories=CATS, api=options(server), cache_dir=tmp_path))
    assert [
        p.arxiv_id
        for p in fetch_day(DAY, ListingOptions(categories=["cs.SE"], api=options(server), cache_dir=tmp_path))
    ] == ["2405.13786"]
    assert len(server.seen) == 2
    assert manifest(tmp_path, DAY)["categories"] == ["cs.SE"]


@pytest.mark.parametrize("damage", ["altered", "deleted", "bad manifest"])
def test_a_damaged_cache_is_read_again(server: ReplayServer, tmp_path: Path, damage: str) -> None:
    fetch_day(DAY, ListingOptions(categories=CATS, api=options(server), cache_dir=tmp_path))
    folder = tmp_path / "2024-05-24"
    [body] = _bodies(folder)
    if damage == "altered":
        (folder / body).write_bytes(EMPTY)
    elif damage == "deleted":
        (folder / body).unlink()
    else:
        (folder / MANIFEST).write_text("{not json", encoding="utf-8")
    assert [
        p.arxiv_id
        for p in fetch_day(DAY, ListingOptions(categories=CATS, api=options(server), cache_dir=tmp_path))
    ] == ["2405.13786"]
    assert len(server.seen) == 2
    assert DayCache(tmp_path, DAY).route() == "api"


def test_an_unwritable_cache_is_a_listing_error(server: ReplayServer, tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be", encoding="utf-8")
    with pytest.raises(ListingError, match="cannot write the arXiv cache"):
        fetch_day(DAY, ListingOptions(categories=CATS, api=options(server), cache_dir=blocker))


def test_feed_day_is_cached_and_replayed_after_it_stopped_being_the_latest(
    server: ReplayServer, tmp_path: Path
) -> None:
    server.script = [Reply(body=FEED)]
    first = read_listing(
        ListingOptions("arxiv", categories=OURS, api=options(server), cache_dir=tmp_path), None, now=THU_NOON
    )
    saved = manifest(tmp_path, D19)
    assert saved["route"] == "rss"
    assert list(saved["responses"]) == [f"{server.base}/rss/cs.CL+cs.AI+cs.LG"]

    server.seen.clear()
    weeks_later = dt.datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    again = read_listing(
        ListingOptions("arxiv", categories=OURS, api=options(server), cache_dir=tmp_path),
        D19,
        now=weeks_later,
    )
    assert server.seen == []
    assert again.papers == first.papers
    assert "(cached in" in again.origin
    no_cross = read_listing(
        ListingOptions(
            "arxiv", categories=OURS, include_cross_lists=False, api=options(server), cache_dir=tmp_path
        ),
        D19,
        now=weeks_later,
    )
    assert [p.arxiv_id for p in no_cross.papers] == NEW and server.seen == []


def test_a_feed_of_another_day_is_not_cached_the_api_answer_is(server: ReplayServer, tmp_path: Path) -> None:
    # Friday 24 May 2024, 12:00 UTC: the latest listing is the 24th's; the feed holds 19 Feb 2026.
    now = dt.datetime(2024, 5, 24, 12, 0, tzinfo=UTC)
    server.script = [Reply(body=FEED), Reply(body=PAGE_0)]
    listing = read_listing(
        ListingOptions("arxiv", categories=CATS, api=options(server), cache_dir=tmp_path), None, now=now
    )
    assert [p.arxiv_id for p in listing.papers] == ["2405.13786"]
    saved = manifest(tmp_path, DAY)
    assert saved["route"] == "api" and all("/api/query" in url for url in saved["responses"])
    server.seen.clear()
    again = read_listing(
        ListingOptions("arxiv", categories=CATS, api=options(server), cache_dir=tmp_path), None, now=now
    )
    assert server.seen == [] and again.papers == listing.papers
