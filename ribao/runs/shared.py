"""Paper-level work shared by the profiles of one day's run: triage scores and summaries, by content key."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path

_SCHEMA = """CREATE TABLE IF NOT EXISTS shared (
    scope TEXT NOT NULL,    -- the day's run id: work is shared among its profiles only
    kind TEXT NOT NULL,     -- triage | summary
    key TEXT NOT NULL,      -- sha256 of what the answer depends on (paper, prompt files, model)
    value TEXT NOT NULL,    -- JSON
    PRIMARY KEY (scope, kind, key)
)"""


class SharedWork:
    """A key-value store in `<home>/cache/shared.sqlite`, scoped to one day's run (`scope`).

    Blocking (SQLite): async nodes call it through `asyncio.to_thread`. Each call opens its own
    connection, so concurrent tasks and processes need no lock beyond SQLite's own.
    """

    def __init__(self, path: Path, scope: str) -> None:
        self.path = path
        self.scope = scope
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._conn() as conn:
            conn.execute(_SCHEMA)

    @contextlib.contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    def get_many(self, kind: str, keys: Mapping[str, str]) -> dict[str, str]:
        """Return {name: value} for the `keys` ({name: key}) already stored under `kind`."""
        if not keys:
            return {}
        with self._conn() as conn:
            rows = conn.execute(
                f"SELECT key, value FROM shared WHERE scope = ? AND kind = ? AND key IN"
                f" ({','.join('?' * len(keys))})",
                [self.scope, kind, *keys.values()],
            ).fetchall()
        found = dict(rows)
        return {name: found[key] for name, key in keys.items() if key in found}

    def put_many(self, kind: str, values: Mapping[str, str]) -> None:
        """Store {key: value} under `kind` (a key already stored keeps its first value)."""
        with self._conn() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO shared (scope, kind, key, value) VALUES (?, ?, ?, ?)",
                [(self.scope, kind, k, v) for k, v in values.items()],
            )
