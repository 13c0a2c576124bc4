"""`ribao calendar`: arXiv's listing days in a date range, their submission windows and announcement times."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer

from ribao.commands import cli_errors, echo_json, parse_date

FromOpt = Annotated[str | None, typer.Option("--from", help="First date YYYY-MM-DD [default: 7 days ago]")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Last date YYYY-MM-DD [default: 7 days ahead]")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON list of objects instead of lines")]


def _holidays() -> list[dt.date]:
    """Return the extra holidays of the settings; raises `ConfigError` on bad settings or config keys."""
    from ribao.settings import load_settings

    return list(load_settings().holidays)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _as_json(day: Any) -> dict[str, Any]:
    """Return one `CalendarDay` as a JSON object (times ISO 8601 with their offsets)."""
    return {
        "date": day.date.isoformat(),
        "status": day.status,
        "listing": day.status in ("listing", "future"),
        "announced_at": _iso(day.announced_at),
        "announced_at_local": _iso(day.announced_at.astimezone() if day.announced_at else None),
        "window_start": _iso(day.window_start),
        "window_end": _iso(day.window_end),
        "holiday_list_known": day.holidays_known,
    }


def _line(day: Any) -> str:
    """Return one `CalendarDay` as a line: date, status, announcement (US/Eastern and local), window."""
    head = f"{day.date} {day.date:%a}  {day.status:<8}"
    unknown = "" if day.holidays_known else f"  (arXiv's {day.date.year} holiday list is not built in)"
    if day.status == "holiday":
        evening = day.date - dt.timedelta(days=1)
        return f"{head}  no announcement on the evening of {evening:%a %Y-%m-%d}{unknown}"
    if day.announced_at is None:
        return (head + unknown).rstrip()
    et = day.announced_at
    local = et.astimezone()
    start = day.window_start.astimezone(et.tzinfo)
    end = day.window_end.astimezone(et.tzinfo)
    return (
        f"{head}  announced {et:%a %Y-%m-%d %H:%M} US/Eastern = {local:%a %Y-%m-%d %H:%M %Z} local"
        f"  window {start:%a %m-%d %H:%M} – {end:%a %m-%d %H:%M} US/Eastern{unknown}"
    )


def calendar(start: FromOpt = None, end: ToOpt = None, as_json: JsonOpt = False) -> None:
    """Show each listing day with the submission window it covers and when it is announced.

    Each date from --from to --to is a listing (with its announcement at 20:00 US/Eastern the
    evening before, in your local time too, and its window of submissions), a weekend, a holiday
    (an evening arXiv lists as deferred, plus the `holidays` of config.toml), or a future listing
    not announced yet.
    """
    from ribao.sources.calendar import calendar_days

    today = dt.date.today()
    first = parse_date(start, flag="--from") or today - dt.timedelta(days=7)
    last = parse_date(end, flag="--to") or today + dt.timedelta(days=7)
    if last < first:
        raise typer.BadParameter(f"--to {last} is before --from {first}", param_hint="--to")
    with cli_errors():
        days = calendar_days(first, last, now=dt.datetime.now(dt.UTC), holidays=_holidays())
    if as_json:
        echo_json([_as_json(d) for d in days])
        return
    for day in days:
        typer.echo(_line(day))
