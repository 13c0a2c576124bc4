"""arXiv's announcement calendar (ribao.sources.calendar)."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest

from ribao.sources.calendar import (
    ARXIV_HOLIDAYS,
    is_announcement_day,
    latest_announcement_day,
    submission_window,
)

ET = ZoneInfo("America/New_York")
UTC = dt.UTC


def test_weekdays_are_announcement_days_weekends_and_holidays_are_not() -> None:
    assert is_announcement_day(dt.date(2026, 2, 18))  # Wednesday
    assert is_announcement_day(dt.date(2026, 2, 16))  # Monday
    assert not is_announcement_day(dt.date(2026, 2, 21))  # Saturday
    assert not is_announcement_day(dt.date(2026, 2, 22))  # Sunday
    assert not is_announcement_day(dt.date(2023, 11, 23))  # Thanksgiving, arXiv's 2023 list
    assert not is_announcement_day(dt.date(2025, 12, 25))  # Christmas, a Thursday


def test_extra_holidays_extend_the_built_in_list() -> None:
    day = dt.date(2026, 2, 16)  # Presidents' Day, not in the built-in list
    assert day not in ARXIV_HOLIDAYS
    assert not is_announcement_day(day, holidays=[day])


def test_holiday_list_is_data_on_weekdays() -> None:
    assert all(d.weekday() < 5 for d in ARXIV_HOLIDAYS)
    assert {d.year for d in ARXIV_HOLIDAYS} >= {2023, 2024, 2025, 2026}


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
        # Thanksgiving 2026 (Thu 26 Nov) has no listing: on that day the newest is Wednesday's.
        (dt.datetime(2026, 11, 26, 12, 0, tzinfo=ET), dt.date(2026, 11, 25)),
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
        # The Friday after Thanksgiving (no Thursday listing) also covers the skipped window.
        (
            dt.date(2026, 11, 27),
            dt.datetime(2026, 11, 24, 19, 0, tzinfo=UTC),
            dt.datetime(2026, 11, 26, 19, 0, tzinfo=UTC),
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
