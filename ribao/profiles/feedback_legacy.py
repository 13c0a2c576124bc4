"""Move an older home's `feedback.sqlite` (feedback before it joined the run log) into the run log, once.

Every event is copied in its order, in one write transaction that also renames the file to
`feedback.sqlite.imported`: a second process waiting on that lock finds no file and imports nothing,
and the renamed file keeps the events should anything go wrong. One line on stderr says it happened.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from ribao.errors import FeedbackStoreError
from ribao.runs.schema import feedback

LEGACY_FILE = "feedback.sqlite"
IMPORTED_SUFFIX = ".imported"
COLUMNS = ("profile", "verb", "arxiv_id", "title", "abstract", "at", "origin")

logger = logging.getLogger(__name__)


def legacy_rows(path: Path) -> list[dict[str, Any]]:
    """Return the events of the feedback file `path`, oldest first (none when it has no table).

    Opened read-write on purpose: closing the last connection folds its write-ahead log into the file,
    so the renamed file is whole. Raises `FeedbackStoreError` naming the file when it is unreadable."""
    try:
        conn = sqlite3.connect(path, timeout=30)
        try:
            conn.row_factory = sqlite3.Row
            cur = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id")  # noqa: S608
            return [dict(r) for r in cur]
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise FeedbackStoreError(f"cannot read the old feedback file {path}: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        raise FeedbackStoreError(f"cannot read the old feedback file {path}: {exc}") from exc


def import_legacy(engine: Engine, home: Path) -> int | None:
    """Move `<home>/feedback.sqlite`'s events into the feedback table at `engine` (the home's run log);
    return how many, None when there is no such file."""
    old = home / LEGACY_FILE
    if not old.exists():
        return None
    kept = old.with_name(old.name + IMPORTED_SUFFIX)
    with engine.connect() as conn:
        conn.execution_options(ribao_write=True)  # SQLite's write lock: one importer at a time
        try:
            with conn.begin():
                if not old.exists():  # another process moved it while this one waited for the lock
                    return None
                rows = legacy_rows(old)
                if rows:
                    conn.execute(feedback.insert(), rows)
                old.rename(kept)  # before the commit: a process waiting for the lock sees no file
        except BaseException:
            if kept.exists() and not old.exists():
                kept.rename(old)  # nothing committed: the next open imports it again
            raise
    logger.warning(
        "ribao: note: moved %d feedback event(s) from %s into the run log %s; the old file is kept as %s",
        len(rows), old, engine.url.database, kept.name,
    )  # fmt: skip
    return len(rows)
