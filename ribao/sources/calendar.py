"""arXiv's announcement calendar: which dates have a listing, and which submissions each one covers.

An *announcement day* is the date arXiv prints on a listing (``/list/<cat>/new``). The listing
dated D (Monday to Friday) is announced at 20:00 US/Eastern on the evening before (Sunday
evening for Monday) and holds the submissions received between the two 14:00 US/Eastern
deadlines before that evening (arXiv help, "Availability of submissions", its "Announcement
Schedule" table). All arithmetic is done in America/New_York, so the machine's own timezone
never matters and daylight-saving changes are handled by zoneinfo.

How arXiv's holiday list is read (the rule, and its evidence)
-------------------------------------------------------------
arXiv's "On Deferred Mailings" list (``help/availability.md`` in arXiv/arxiv-docs; the copies
ribao was built from are ``shared/data/arxiv/calendar/availability.<commit>.md``: 5f9f48f0 for
2023, 20e652c5 for 2024, 95c71658 for 2025, 1268da99 for 2026) names **evenings with no
announcement**, not listing dates. A listed date E therefore removes the listing that the
20:00 announcement of evening E would have produced, i.e. the listing dated E + 1 day
(Sunday E: Monday's listing); the submissions of that window roll over into the next
announcement. The evidence:

* 2024's list has Thu 28 Nov, yet a full real listing dated Thu 28 Nov 2024 exists
  (``shared/data/arxiv/feeds/rss_mock_feed.xml``, ``pubDate`` Thu, 28 Nov 2024, 926 new papers):
  it was announced on Wed 27 Nov; the listing that is missing is Fri 29 Nov.
* 2025's list has Sun 6 July, which is never a listing date but is an announcement evening
  (Sunday 20:00 brings Monday's listing): the missing listing is Mon 7 July 2025.
* Friday and Saturday entries (e.g. Fri 2026-06-19, 2026-07-03, 2026-12-25) fall on evenings on
  which arXiv never announces, so under this rule they remove nothing.

Extra dates from the settings (``holidays = [...]`` in config.toml) are read the same way, so a
date can be copied from https://status.arxiv.org or the arXiv blog as arXiv writes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")

ANNOUNCE_TIME = dt.time(20, 0)
DEADLINE_TIME = dt.time(14, 0)

_D = dt.date
# arXiv's published evenings without an announcement, per year, copied from the files named in
# the module docstring (the dates exactly as arXiv lists them, weekday included).
NO_ANNOUNCEMENT_EVENINGS: dict[int, tuple[dt.date, ...]] = {
    2023: (  # availability.5f9f48f0.md
        _D(2023, 1, 16), _D(2023, 6, 14), _D(2023, 6, 19), _D(2023, 7, 4), _D(2023, 8, 17),
        _D(2023, 9, 4), _D(2023, 11, 23), _D(2023, 12, 25), _D(2023, 12, 27),
    ),
    2024: (  # availability.20e652c5.md
        _D(2024, 1, 15), _D(2024, 5, 22), _D(2024, 6, 19), _D(2024, 7, 4), _D(2024, 9, 2),
        _D(2024, 10, 8), _D(2024, 11, 28), _D(2024, 12, 25), _D(2024, 12, 26), _D(2024, 12, 31),
    ),
    2025: (  # availability.95c71658.md
        _D(2025, 1, 1), _D(2025, 1, 20), _D(2025, 6, 19), _D(2025, 7, 6), _D(2025, 9, 1),
        _D(2025, 11, 27), _D(2025, 12, 25), _D(2025, 12, 30),
    ),
    2026: (  # availability.1268da99.md
        _D(2026, 1, 1), _D(2026, 1, 19), _D(2026, 6, 19), _D(2026, 7, 3), _D(2026, 9, 7),
        _D(2026, 11, 26), _D(2026, 12, 25), _D(2026, 12, 29), _D(2026, 12, 31),
    ),
}  # fmt: skip

ARXIV_HOLIDAYS: tuple[dt.date, ...] = tuple(sorted(d for ds in NO_ANNOUNCEMENT_EVENINGS.values() for d in ds))
KNOWN_YEARS: frozenset[int] = frozenset(NO_ANNOUNCEMENT_EVENINGS)

# Upper bound on consecutive dates without a listing (a weekend plus a holiday week), so a
# wrong holiday list can never send the backwards search into an endless loop.
_MAX_GAP_DAYS = 31


def announcement_evening(day: dt.date) -> dt.date:
    """Return the evening (US/Eastern date) whose 20:00 announcement produces the listing dated ``day``."""
    return day - dt.timedelta(days=1)


def announced_at(day: dt.date) -> dt.datetime:
    """Return when the listing dated ``day`` is announced: 20:00 US/Eastern the evening before (aware)."""
    return dt.datetime.combine(announcement_evening(day), ANNOUNCE_TIME, tzinfo=EASTERN)


def holiday_list_known(day: dt.date) -> bool:
    """Return True when arXiv's holiday list for the year of ``day``'s announcement evening is built in."""
    return announcement_evening(day).year in KNOWN_YEARS


def holiday_list_note(day: dt.date) -> str:
    """Return the caveat for a listing dated ``day`` whose holiday list is not built in ("" when it is)."""
    if holiday_list_known(day):
        return ""
    return (
        f"arXiv's holiday list for {day.year} is not built in: only weekends and the config's"
        " holidays are known"
    )


def skip_reason(day: dt.date, holidays: Iterable[dt.date] = ()) -> Literal["weekend", "holiday"] | None:
    """Return why arXiv prints no listing dated ``day`` ("weekend", "holiday"), or None if it does.

    ``holidays`` are extra no-announcement evenings on top of ``ARXIV_HOLIDAYS`` (same reading).
    """
    if day.weekday() >= 5:
        return "weekend"
    evening = announcement_evening(day)
    if evening in ARXIV_HOLIDAYS or evening in set(holidays):
        return "holiday"
    return None


def is_announcement_day(day: dt.date, holidays: Iterable[dt.date] = ()) -> bool:
    """Return True when arXiv prints a listing dated ``day``: Monday to Friday, its evening not deferred.

    ``holidays`` are extra no-announcement evenings on top of ``ARXIV_HOLIDAYS``.
    """
    return skip_reason(day, holidays) is None


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
    listing to the 14:00 US/Eastern deadline on the weekday before ``day``. After an evening
    with no announcement the next window also covers the skipped one. Raises ValueError if
    ``day`` is not an announcement day.
    """
    extra = frozenset(holidays)
    if not is_announcement_day(day, extra):
        raise ValueError(f"{day} ({day:%A}) is not an arXiv announcement day")
    start = _deadline_before(_previous_announcement_day(day, extra))
    end = _deadline_before(day)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


DayStatus = Literal["listing", "weekend", "holiday", "future"]


@dataclass(frozen=True)
class CalendarDay:
    """One date of `calendar_days`: whether arXiv lists it and, if so, when and which window.

    ``announced_at`` is aware (US/Eastern); ``window_start``/``window_end`` are aware UTC
    (half-open). The three are None for a weekend or holiday. A ``"future"`` day is a listing
    day not announced yet at the ``now`` given; its times are the scheduled ones.
    ``holidays_known`` is False when arXiv's holiday list for that year is not built in.
    """

    date: dt.date
    status: DayStatus
    announced_at: dt.datetime | None
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    holidays_known: bool


def calendar_days(
    start: dt.date, end: dt.date, *, now: dt.datetime, holidays: Iterable[dt.date] = ()
) -> list[CalendarDay]:
    """Return every date from ``start`` to ``end`` (inclusive) with its status, oldest first.

    ``now`` is aware; listing days after `latest_announcement_day` at ``now`` are ``"future"``.
    Raises ValueError when ``end`` is before ``start`` or ``now`` is naive.
    """
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    extra = frozenset(holidays)
    latest = latest_announcement_day(now, extra)
    days = []
    for n in range((end - start).days + 1):
        day = start + dt.timedelta(days=n)
        known = holiday_list_known(day)
        reason = skip_reason(day, extra)
        if reason is not None:
            days.append(CalendarDay(day, reason, None, None, None, known))
            continue
        window = submission_window(day, extra)
        status: DayStatus = "future" if day > latest else "listing"
        days.append(CalendarDay(day, status, announced_at(day), window[0], window[1], known))
    return days
