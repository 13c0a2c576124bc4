"""Find written digests (`<date>.json`): through the run log, where the newest finished run of a day
says where it wrote, and in a digests folder (the configured `out_dir`, or one given by flag)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ribao.errors import DigestNotFound
from ribao.record import DigestPaths
from ribao.runs.backend import RUNS_FILE
from ribao.runs.db import RunLog


def folder_digests(folder: Path) -> dict[dt.date, Path]:
    """Return the `<YYYY-MM-DD>.json` files in `folder` by day; raises `DigestNotFound` if no such folder."""
    if not folder.is_dir():
        raise DigestNotFound(f"no digests folder {folder} (set out_dir or pass the folder)")
    found = {}
    for path in folder.glob("????-??-??.json"):
        try:
            found[dt.date.fromisoformat(path.stem)] = path
        except ValueError:
            continue  # a name shaped like a date that is not one is no digest
    return found


def recorded_digests(
    home: Path, date: dt.date | None = None, *, url: str | None = None
) -> dict[dt.date, tuple[str, Path]]:
    """Return the run log's (`<home>/runs.sqlite`, or at `url`) newest `done` run and its JSON path per
    day (see `RunLog.digest_paths`)."""
    if url is None and not (home / RUNS_FILE).exists():  # reading must not create a run log
        return {}
    with RunLog.open(home, url=url) as log:
        return log.digest_paths(date)


def find_digest(date: dt.date, folder: Path, *, home: Path | None, url: str | None = None) -> Path:
    """Return the `<date>.json` to send: the newest finished run's (from `<home>`'s run log) while
    that file exists, else `<folder>/<date>.json`; with `home` None only the folder is searched.

    Raises `DigestNotFound` naming the run's vanished file and the folder searched.
    """
    recorded = recorded_digests(home, date, url=url) if home is not None else {}
    run = recorded.get(date)
    if run is not None and run[1].is_file():
        return run[1]
    path = DigestPaths.of(folder, date).json
    if path.is_file():
        return path
    if run is not None:
        raise DigestNotFound(
            f"no digest for {date}: run {run[0]} wrote {run[1]}, which is gone, and {folder} has no"
            f" {path.name}"
        )
    logged = " no finished run of that day in the run log and" if home is not None else ""
    raise DigestNotFound(
        f"no digest for {date}:{logged} no {path.name} in {folder} (run `ribao run --date {date}` first)"
    )


def written_digests(folder: Path, *, home: Path | None, url: str | None = None) -> list[Path]:
    """Return the `<date>.json` of every written day, newest day first: per day the newest finished
    run's file (from `<home>`'s run log) while it exists, else the one in `folder`. With `home` None
    only the folder is read, and it must exist. Raises `DigestNotFound` when there is none."""
    if home is None:
        found = folder_digests(folder)
    else:
        found = folder_digests(folder) if folder.is_dir() else {}
        for date, (_, path) in recorded_digests(home, url=url).items():
            if path.is_file():
                found[date] = path
    if not found:
        logged = f" none recorded in {home / RUNS_FILE} and" if home is not None else ""
        raise DigestNotFound(f"no digests:{logged} no <date>.json in {folder}")
    return [found[d] for d in sorted(found, reverse=True)]
