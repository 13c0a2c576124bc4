"""arXiv's announcement calendar: which dates have a listing, and which submissions each one covers.

An *announcement day* is the date arXiv prints on a listing (``/list/<cat>/new``). The listing
dated D is announced at 20:00 US/Eastern the evening before (Sunday evening for Monday) and
holds the submissions received between the two 14:00 US/Eastern deadlines before that evening
(arXiv help, "Availability of submissions"). All arithmetic is done in America/New_York, so the
machine's own timezone never matters and daylight-saving changes are handled by zoneinfo.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")
ANNOUNCE_TIME = dt.time(20, 0)
DEADLINE_TIME = dt.time(14, 0)

# Dates arXiv lists as "deferred mailings": ribao treats each as a date with no listing.
# 2023 is arXiv's published list; 2024-2026 hold only the obvious US holidays that fall on a
# weekday (New Year's Day, Juneteenth, 4 July or its Friday observance, Labor Day, Thanksgiving,
# Christmas), not arXiv's own announcements. Extend it from https://status.arxiv.org and the arXiv
# blog: settings pass extra holidays to every function here.
ARXIV_HOLIDAYS: tuple[dt.date, ...] = (
    dt.date(2023, 1, 16),
    dt.date(2023, 6, 14),
    dt.date(2023, 6, 19),
    dt.date(2023, 7, 4),
    dt.date(2023, 9, 4),
    dt.date(2023, 11, 23),
    dt.date(2023, 12, 25),
    dt.date(2023, 12, 27),
    dt.date(2024, 1, 1),
    dt.date(2024, 6, 19),
    dt.date(2024, 7, 4),
    dt.date(2024, 9, 2),
    dt.date(2024, 11, 28),
    dt.date(2024, 12, 25),
    dt.date(2025, 1, 1),
    dt.date(2025, 6, 19),
    dt.date(2025, 7, 4),
    dt.date(2025, 9, 1),
    dt.date(2025, 11, 27),
    dt.date(2025, 12, 25),
    dt.date(2026, 1, 1),
    dt.date(2026, 6, 19),
    dt.date(2026, 7, 3),
    dt.date(2026, 9, 7),
    dt.date(2026, 11, 26),
    dt.date(2026, 12, 25),
)

# Upper bound on consecutive dates without a listing (a weekend plus a holiday week), so a
# wrong holiday list can never send the backwards search into an endless loop.
_MAX_GAP_DAYS = 31


def is_announcement_day(day: dt.date, holidays: Iterable[dt.date] = ()) -> bool:
    """Return True when arXiv prints a listing dated ``day``: Monday to Friday, not a holiday.

    ``holidays`` are extra dates on top of ``ARXIV_HOLIDAYS``.
    """
    return day.weekday() < 5 and day not in ARXIV_HOLIDAYS and day not in set(holidays)


def _previous_announcement_day(day: dt.date, holidays: frozenset[dt.date]) -> dt.date:
    """Return the last announcement day strictly before ``day``."""
    for back in range(1, _MAX_GAP_DAYS + 1):
        candidate = day - dt.timedelta(days=back)
        if is_announcement_day(candidate, holidays):
            return candidate
    raise ValueError(f"no announcement day in the {_MAX_GAP_DAYS} days before {day}; check the holidays")


def latest_announcement_day(now: dt.datetime, holidays: Iterable[dt.date] = ()) -> dt.date:
    """Return the date of the newest listing already announced at instant ``now``.

    ``now`` must be timezone-aware (any zone); a naive datetime raises ValueError. From 20:00
    US/Eastern Sunday to Thursday the listing dated the next day is out.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("latest_announcement_day needs a timezone-aware datetime, e.g. datetime.now(UTC)")
    local = now.astimezone(EASTERN)
    newest = local.date() + dt.timedelta(days=1) if local.time() >= ANNOUNCE_TIME else local.date()
    extra = frozenset(holidays)
    if is_announcement_day(newest, extra):
        return newest
    return _previous_announcement_day(newest, extra)


def _deadline_before(day: dt.date) -> dt.datetime:
    """Return 14:00 US/Eastern on the weekday before ``day``, the deadline of the listing dated ``day``."""
    back = 3 if day.weekday() == 0 else 1
    return dt.datetime.combine(day - dt.timedelta(days=back), DEADLINE_TIME, tzinfo=EASTERN)


def submission_window(day: dt.date, holidays: Iterable[dt.date] = ()) -> tuple[dt.datetime, dt.datetime]:
    """Return ``(start, end)`` in UTC of the submissions the listing dated ``day`` announces.

    The window is half-open, ``start <= submitted < end``: from the deadline of the previous
    listing to the 14:00 US/Eastern deadline on the weekday before ``day``. After a holiday with
    no listing the next window also covers the skipped one. Raises ValueError if ``day`` is not
    an announcement day.
    """
    extra = frozenset(holidays)
    if not is_announcement_day(day, extra):
        raise ValueError(f"{day} ({day:%A}) is not an arXiv announcement day")
    start = _deadline_before(_previous_announcement_day(day, extra))
    end = _deadline_before(day)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)
