"""The run log's schema: named migrations applied once each, in order (simonw/llm's `logs.db` style)."""

from __future__ import annotations

import datetime as dt
import sqlite3

from ribao.errors import RunLogError

# Append only: never edit or reorder an applied migration; a schema change is a new entry.
MIGRATIONS: list[tuple[str, str]] = [
    (
        "m001_runs_and_calls",
        """
        CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,        -- ULID, also the LangGraph thread id
            status TEXT NOT NULL,           -- running | done | failed | no_announcement | interrupted
            started_at TEXT NOT NULL,       -- ISO 8601, UTC
            finished_at TEXT,
            date TEXT,                      -- announcement day YYYY-MM-DD (requested, then actual)
            categories TEXT NOT NULL DEFAULT '[]',
            settings TEXT NOT NULL DEFAULT '{}',   -- effective settings, secrets masked
            prompts TEXT NOT NULL DEFAULT '{}',    -- file -> {source, path, sha256}
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cached_tokens INTEGER NOT NULL DEFAULT 0,
            cost REAL,                      -- NULL: unknown (a price was missing)
            currency TEXT,
            digest_path TEXT,
            json_path TEXT,
            error TEXT,
            picks TEXT NOT NULL DEFAULT '[]',
            critiques TEXT NOT NULL DEFAULT '[]'
        );
        CREATE TABLE llm_calls (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,           -- order of recording within the run, from 1
            node TEXT NOT NULL,
            task_id TEXT,                   -- the LangGraph task that made the call
            agent TEXT NOT NULL,
            model TEXT NOT NULL,
            task TEXT NOT NULL,
            messages TEXT NOT NULL,         -- JSON [{role, content}]
            raw TEXT NOT NULL,
            parsed TEXT,                    -- JSON or NULL
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cached_tokens INTEGER NOT NULL DEFAULT 0,
            latency_s REAL NOT NULL DEFAULT 0,
            cost REAL,
            currency TEXT,
            error TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (run_id, seq)
        );
        """,
    ),
    (
        "m002_node_events",
        """
        CREATE TABLE node_events (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            node TEXT NOT NULL,
            task_id TEXT,
            started_at TEXT,
            finished_at TEXT NOT NULL,
            duration_s REAL,
            inputs TEXT,                    -- JSON summary of what the node read
            outputs TEXT,                   -- JSON of what it wrote (LLM calls counted, not copied)
            summary TEXT,                   -- the live trace's one-line description
            error TEXT,
            UNIQUE (run_id, seq)
        );
        """,
    ),
    (
        "m003_indexes",
        """
        CREATE INDEX runs_started ON runs (started_at);
        CREATE INDEX runs_status ON runs (status, started_at);
        CREATE INDEX llm_calls_run_agent ON llm_calls (run_id, agent);
        CREATE INDEX node_events_run ON node_events (run_id, seq);
        """,
    ),
    (
        "m004_run_owner",
        """
        ALTER TABLE runs ADD COLUMN pid INTEGER;     -- the process that runs it, to tell a dead run
        ALTER TABLE runs ADD COLUMN host TEXT;       -- the machine of that process
        """,
    ),
    (
        "m005_deliveries",
        """
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
            channel TEXT NOT NULL,          -- the [[push]] name
            scheme TEXT NOT NULL,           -- Apprise scheme (schan, feishu, mailto, json ...)
            format TEXT NOT NULL,           -- markdown | card | text | html
            status TEXT NOT NULL,           -- ok | failed
            parts INTEGER NOT NULL DEFAULT 1,
            bytes INTEGER NOT NULL DEFAULT 0,   -- UTF-8 bytes sent, over all parts
            cut INTEGER NOT NULL DEFAULT 0,     -- rows left out to fit the channel
            attempts INTEGER NOT NULL DEFAULT 0,
            error TEXT,                     -- secrets masked
            created_at TEXT NOT NULL
        );
        CREATE INDEX deliveries_run ON deliveries (run_id, id);
        """,
    ),
]


def statements(sql: str) -> list[str]:
    """Split a migration script into complete SQL statements (`executescript` would commit midway)."""
    out: list[str] = []
    pending = ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            out.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in migration: {pending.strip()[:80]}")
    return out


def applied(conn: sqlite3.Connection) -> list[str]:
    """Return the names of the migrations applied to `conn`'s database, in the order applied."""
    conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    return [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]


def migrate(conn: sqlite3.Connection, migrations: list[tuple[str, str]] | None = None) -> list[str]:
    """Apply the missing `migrations` (default `MIGRATIONS`) in order, in one transaction; return their names.

    `conn` must be in autocommit mode (``isolation_level=None``). ``BEGIN IMMEDIATE`` takes the
    write lock first, so two processes opening a new database apply each migration once.
    Raises `RunLogError` when the database has migrations this ribao does not know (a newer ribao).
    """
    migrations = MIGRATIONS if migrations is None else migrations
    conn.execute("BEGIN IMMEDIATE")
    try:
        done = applied(conn)
        unknown = [name for name in done if name not in {n for n, _ in migrations}]
        if unknown:
            raise RunLogError(
                f"the run log was written by a newer ribao (unknown migrations: {', '.join(unknown)}); "
                "upgrade ribao"
            )
        todo = [(name, sql) for name, sql in migrations if name not in done]
        for name, sql in todo:
            for statement in statements(sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                (name, dt.datetime.now(dt.UTC).isoformat(timespec="seconds")),
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return [name for name, _ in todo]
