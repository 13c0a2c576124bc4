"""A second connection holding a new SQLite file's write lock for a moment, as a concurrent run does."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def held_new_file(path: Path, seconds: float = 0.3) -> Iterator[None]:
    """Create `path` (rollback journal, not WAL) inside a write transaction committed `seconds` later."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE held (x)")
    release = threading.Timer(seconds, other.execute, args=("COMMIT",))
    release.start()
    try:
        yield
    finally:
        release.join()
        other.close()
