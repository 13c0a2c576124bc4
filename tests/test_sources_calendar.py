"""arXiv's announcement calendar (ribao.sources.calendar)."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from ribao.sources.calendar import (
    ARXIV_HOLIDAYS,
    KNOWN_YEARS,
    NO_ANNOUNCEMENT_EVENINGS,
    calendar_days,
    is_announcement_day,
    latest_announcement_day,
    submission_window,
)

ET = ZoneInfo("America/New_York")
UTC = dt.UTC


DATA = Path(__file__).parent / "data"
PAGES = {2023: "5f9f48f0", 2024: "20e652c5", 2025: "95c71658", 2026: "1268da99"}
MONTHS = {
    m: n
    for n, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}


def arxiv_list(year: int) -> set[dt.date]:
    """Parse the "<year> Holidays" list of arXiv's page (``- Mon 15 January``, ``- Thursday 2026-01-01``)."""
    text = (DATA / "calendar" / f"availability.{PAGES[year]}.md").read_text(encoding="utf-8")
    section = text.split(f"### {year} Holidays", 1)[1].split("###", 1)[0]
    dates = set()
    for line in section.splitlines():
        if iso := re.search(r"(\d{4})-(\d\d)-(\d\d)", line):
            dates.add(dt.date(*map(int, iso.groups())))
        elif named := re.match(r"- \w+ (\d+) (\w+)", line.strip()):
            dates.add(dt.date(year, MONTHS[named.group(2)[:3].lower()], int(named.group(1))))
    return dates


@pytest.mark.parametrize("year", sorted(PAGES))
def test_built_in_holidays_are_arxivs_published_list(year: int) -> None:
    assert set(NO_ANNOUNCEMENT_EVENINGS[year]) == arxiv_list(year)
    assert year in KNOWN_YEARS


def test_the_real_listing_of_thanksgiving_2024_exists() -> None:
    # arXiv's 2024 list has Thu 28 Nov, and a real listing feed dated that day exists (926 new papers):
    # the list names the evening without announcement, so the missing listing is Friday's.
    channel = etree.parse(DATA / "feeds" / "rss_2024-11-28.trimmed.xml").find("channel")
    assert channel.findtext("pubDate") == "Thu, 28 Nov 2024 00:00:00 -0500"
    assert dt.date(2024, 11, 28) in arxiv_list(2024)
    assert is_announcement_day(dt.date(2024, 11, 28))
    assert not is_announcement_day(dt.date(2024, 11, 29))


def test_a_listed_sunday_removes_mondays_listing() -> None:
    # 2025's list has Sunday 6 July: an announcement evening, never a listing date.
    assert dt.date(2025, 7, 6) in arxiv_list(2025)
    assert not is_announcement_day(dt.date(2025, 7, 7))
    assert is_announcement_day(dt.date(2025, 7, 8))
    # The skipped window rolls over: Tuesday's listing covers Thu 3 July 14:00 to Mon 7 July 14:00.
    assert submission_window(dt.date(2025, 7, 8)) == (
        dt.datetime(2025, 7, 3, 18, 0, tzinfo=UTC),
        dt.datetime(2025, 7, 7, 18, 0, tzinfo=UTC),
    )


def test_listed_fridays_remove_nothing() -> None:
    # arXiv never announces on Friday evenings, so a listed Friday changes no listing.
    assert dt.date(2026, 7, 3) in arxiv_list(2026)
    assert is_announcement_day(dt.date(2026, 7, 3)) and is_announcement_day(dt.date(2026, 7, 6))


def test_no_listing_is_built_for_the_day_after_thanksgiving_2026() -> None:
    assert not is_announcement_day(dt.date(2026, 11, 27))
    with pytest.raises(ValueError, match="not an arXiv announcement day"):
        submission_window(dt.date(2026, 11, 27))


def test_weekdays_are_announcement_days_weekends_and_holidays_are_not() -> None:
    assert is_announcement_day(dt.date(2026, 2, 18))  # Wednesday
    assert is_announcement_day(dt.date(2026, 2, 16))  # Monday
    assert not is_announcement_day(dt.date(2026, 2, 21))  # Saturday
    assert not is_announcement_day(dt.date(2026, 2, 22))  # Sunday
    assert not is_announcement_day(dt.date(2023, 11, 24))  # after Thanksgiving evening, arXiv's 2023 list
    assert not is_announcement_day(dt.date(2025, 12, 26))  # after Christmas evening (a Thursday)


def test_extra_holidays_extend_the_built_in_list() -> None:
    evening = dt.date(2026, 2, 16)  # Presidents' Day, not in the built-in list
    assert evening not in ARXIV_HOLIDAYS
    assert not is_announcement_day(dt.date(2026, 2, 17), holidays=[evening])
    assert is_announcement_day(evening, holidays=[evening])


def test_calendar_days_give_windows_reasons_and_future() -> None:
    now = dt.datetime(2024, 11, 27, 12, 0, tzinfo=ET)
    days = {d.date: d for d in calendar_days(dt.date(2024, 11, 26), dt.date(2024, 12, 2), now=now)}
    assert [days[dt.date(2024, 11, d)].status for d in range(26, 31)] == [
        "listing", "listing", "future", "holiday", "weekend",
    ]  # fmt: skip
    thu = days[dt.date(2024, 11, 28)]
    assert thu.announced_at == dt.datetime(2024, 11, 27, 20, 0, tzinfo=ET)
    assert (thu.window_start, thu.window_end) == submission_window(thu.date)
    assert days[dt.date(2024, 11, 29)].announced_at is None
    assert days[dt.date(2024, 12, 2)].window_start == dt.datetime(2024, 11, 27, 19, 0, tzinfo=UTC)
    assert all(d.holidays_known for d in days.values())
    assert not calendar_days(dt.date(2027, 3, 1), dt.date(2027, 3, 1), now=now)[0].holidays_known


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Tuesday 17 Feb 2026: the Wednesday listing comes out at 20:00 US/Eastern (EST, UTC-5).
        (dt.datetime(2026, 2, 17, 19, 59, tzinfo=ET), dt.date(2026, 2, 17)),
        (dt.datetime(2026, 2, 17, 20, 0, tzinfo=ET), dt.date(2026, 2, 18)),
        (dt.datetime(2026, 2, 18, 0, 59, tzinfo=UTC), dt.date(2026, 2, 17)),
        (dt.datetime(2026, 2, 18, 1, 0, tzinfo=UTC), dt.date(2026, 2, 18)),
        # The same instant seen from Beijing.
        (dt.datetime(2026, 2, 18, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), dt.date(2026, 2, 18)),
        # Friday and Saturday evenings announce nothing; Sunday 20:00 brings Monday's listing.
        (dt.datetime(2026, 2, 20, 21, 0, tzinfo=ET), dt.date(2026, 2, 20)),
        (dt.datetime(2026, 2, 21, 12, 0, tzinfo=ET), dt.date(2026, 2, 20)),
        (dt.datetime(2026, 2, 22, 19, 59, tzinfo=ET), dt.date(2026, 2, 20)),
        (dt.datetime(2026, 2, 22, 20, 0, tzinfo=ET), dt.date(2026, 2, 23)),
        # DST starts Sunday 8 Mar 2026: 20:00 EDT is 00:00 UTC, an hour earlier than a week before.
        (dt.datetime(2026, 3, 1, 0, 59, tzinfo=UTC), dt.date(2026, 2, 27)),  # Sat 19:59 EST
        (dt.datetime(2026, 3, 2, 0, 30, tzinfo=UTC), dt.date(2026, 2, 27)),  # Sun 19:30 EST
        (dt.datetime(2026, 3, 2, 1, 0, tzinfo=UTC), dt.date(2026, 3, 2)),  # Sun 20:00 EST
        (dt.datetime(2026, 3, 8, 23, 59, tzinfo=UTC), dt.date(2026, 3, 6)),  # Sun 19:59 EDT
        (dt.datetime(2026, 3, 9, 0, 0, tzinfo=UTC), dt.date(2026, 3, 9)),  # Sun 20:00 EDT
        # DST ends Sunday 1 Nov 2026.
        (dt.datetime(2026, 11, 2, 0, 30, tzinfo=UTC), dt.date(2026, 10, 30)),  # Sun 19:30 EST
        (dt.datetime(2026, 11, 2, 1, 0, tzinfo=UTC), dt.date(2026, 11, 2)),  # Sun 20:00 EST
        # Thanksgiving 2026 (Thu 26 Nov) has no announcement: Friday's listing never comes.
        (dt.datetime(2026, 11, 26, 12, 0, tzinfo=ET), dt.date(2026, 11, 26)),
        (dt.datetime(2026, 11, 27, 21, 0, tzinfo=ET), dt.date(2026, 11, 26)),
    ],
)
def test_latest_announcement_day(now: dt.datetime, expected: dt.date) -> None:
    assert latest_announcement_day(now) == expected


def test_latest_announcement_day_ignores_the_machine_timezone(monkeypatch: pytest.MonkeyPatch) -> None:
    now = dt.datetime(2026, 2, 18, 0, 30, tzinfo=UTC)  # Tue 19:30 EST
    results = set()
    for zone in ("Asia/Tokyo", "America/Los_Angeles", "UTC"):
        monkeypatch.setenv("TZ", zone)
        time.tzset()
        results.add(latest_announcement_day(now))
    monkeypatch.undo()
    time.tzset()
    assert results == {dt.date(2026, 2, 17)}


def test_latest_announcement_day_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        latest_announcement_day(dt.datetime(2026, 2, 18, 12, 0))


@pytest.mark.parametrize(
    ("day", "start", "end"),
    [
        # Wednesday: Mon 14:00 – Tue 14:00 EST.
        (
            dt.date(2026, 2, 18),
            dt.datetime(2026, 2, 16, 19, 0, tzinfo=UTC),
            dt.datetime(2026, 2, 17, 19, 0, tzinfo=UTC),
        ),
        # Tuesday: Fri 14:00 – Mon 14:00, the weekend's submissions.
        (
            dt.date(2026, 2, 17),
            dt.datetime(2026, 2, 13, 19, 0, tzinfo=UTC),
            dt.datetime(2026, 2, 16, 19, 0, tzinfo=UTC),
        ),
        # Monday: Thu 14:00 – Fri 14:00.
        (
            dt.date(2026, 2, 23),
            dt.datetime(2026, 2, 19, 19, 0, tzinfo=UTC),
            dt.datetime(2026, 2, 20, 19, 0, tzinfo=UTC),
        ),
        # Summer time: 14:00 EDT is 18:00 UTC.
        (
            dt.date(2026, 6, 10),
            dt.datetime(2026, 6, 8, 18, 0, tzinfo=UTC),
            dt.datetime(2026, 6, 9, 18, 0, tzinfo=UTC),
        ),
        # Across the DST change (Sun 8 Mar): Fri 14:00 EST – Mon 14:00 EDT.
        (
            dt.date(2026, 3, 10),
            dt.datetime(2026, 3, 6, 19, 0, tzinfo=UTC),
            dt.datetime(2026, 3, 9, 18, 0, tzinfo=UTC),
        ),
        # The Monday after Thanksgiving (no Friday listing) also covers the skipped window.
        (
            dt.date(2026, 11, 30),
            dt.datetime(2026, 11, 25, 19, 0, tzinfo=UTC),
            dt.datetime(2026, 11, 27, 19, 0, tzinfo=UTC),
        ),
    ],
)
def test_submission_window(day: dt.date, start: dt.datetime, end: dt.datetime) -> None:
    assert submission_window(day) == (start, end)


def test_consecutive_windows_tile_time() -> None:
    days = [dt.date(2026, 2, 16) + dt.timedelta(days=n) for n in range(14)]
    windows = [submission_window(d) for d in days if is_announcement_day(d)]
    assert all(a[1] == b[0] for a, b in zip(windows, windows[1:], strict=False))


def test_submission_window_of_a_day_without_listing_is_an_error() -> None:
    with pytest.raises(ValueError, match="not an arXiv announcement day"):
        submission_window(dt.date(2026, 2, 21))
