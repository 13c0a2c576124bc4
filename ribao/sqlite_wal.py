"""SQLite's WAL mode, switched on once per file by whichever connection opens it first."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import tenacity


def _is_locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


def use_wal(conn: sqlite3.Connection, timeout_s: float) -> None:
    """Put `conn`'s file in WAL mode unless it is already.

    Switching needs the file alone, and SQLite answers "database is locked" at once there, without its
    busy handler, while another connection holds it (two runs opening a new run log or checkpoint file
    together): the switch is retried for up to `timeout_s`.
    """
    if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        return
    for attempt in tenacity.Retrying(
        retry=tenacity.retry_if_exception(_is_locked),
        stop=tenacity.stop_after_delay(timeout_s),
        wait=tenacity.wait_random(0.01, 0.1),
        reraise=True,
    ):
        with attempt:
            conn.execute("PRAGMA journal_mode = WAL")


def ensure_wal(path: Path, timeout_s: float) -> None:
    """Create `path` if missing and put it in WAL mode (see `use_wal`); a blocking call."""
    conn = sqlite3.connect(path, timeout=timeout_s, isolation_level=None)
    try:
        use_wal(conn, timeout_s)
    finally:
        conn.close()
