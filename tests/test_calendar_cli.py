"""`ribao calendar`: listing days, windows, announcement times and skipped days."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from ribao.cli import app


def test_calendar_json_lists_days_with_windows_and_reasons() -> None:
    result = CliRunner().invoke(app, ["calendar", "--from", "2024-11-27", "--to", "2024-12-02", "--json"])
    assert result.exit_code == 0, result.output
    days = {d["date"]: d for d in json.loads(result.output)}
    assert [days[d]["status"] for d in sorted(days)] == [
        "listing", "listing", "holiday", "weekend", "weekend", "listing",
    ]  # fmt: skip
    thu = days["2024-11-28"]
    assert thu["announced_at"] == "2024-11-27T20:00:00-05:00"
    assert (thu["window_start"], thu["window_end"]) == (
        "2024-11-26T19:00:00+00:00",
        "2024-11-27T19:00:00+00:00",
    )
    assert days["2024-11-29"]["announced_at"] is None


def test_calendar_lines_name_the_deferred_evening_and_unknown_years() -> None:
    result = CliRunner().invoke(app, ["calendar", "--from", "2025-07-07", "--to", "2025-07-08"])
    assert result.exit_code == 0, result.output
    monday, tuesday = result.output.splitlines()
    assert "holiday" in monday and "evening of Sun 2025-07-06" in monday
    assert "announced Mon 2025-07-07 20:00 US/Eastern" in tuesday and "local" in tuesday
    later = CliRunner().invoke(app, ["calendar", "--from", "2027-03-01", "--to", "2027-03-01"])
    assert "holiday list is not built in" in later.output


def test_calendar_rejects_a_reversed_range() -> None:
    result = CliRunner().invoke(app, ["calendar", "--from", "2025-07-08", "--to", "2025-07-01"])
    assert result.exit_code == 2


def test_the_trace_says_when_a_years_holiday_list_is_unknown() -> None:
    import datetime as dt

    from ribao.runs.trace import DESCRIBE

    known = DESCRIBE["fetch_listing"]({"date": dt.date(2026, 2, 18), "candidates": [], "listing_origin": "x"})
    unknown = DESCRIBE["fetch_listing"](
        {"date": dt.date(2027, 2, 18), "candidates": [], "listing_origin": "x"}
    )
    assert "not built in" not in known
    assert "holiday list for 2027 is not built in" in unknown
