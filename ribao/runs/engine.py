"""The run log's engine: `<home>/runs.sqlite` (WAL, writers queued) or the Postgres database at a URL,
migrated to this ribao's schema by `open_current`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from ribao.errors import StoreUnreachable
from ribao.runs.backend import CONNECT_TIMEOUT_S, RUNS_FILE, is_postgres, shown, sqlalchemy_url
from ribao.runs.migrations import RunLogError, upgrade
from ribao.sqlite_wal import use_wal

BUSY_TIMEOUT_MS = 10_000


def sqlite_engine(path: Path) -> Engine:
    """Return an engine on the SQLite file `path`: WAL, foreign keys, and ``BEGIN IMMEDIATE`` for
    writes (connections marked ``ribao_write``), so two writers queue instead of failing midway."""
    engine = sa.create_engine(
        f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi: Any, _record: Any) -> None:
        dbapi.isolation_level = None  # transactions are begun below, not by the driver
        dbapi.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        use_wal(dbapi, BUSY_TIMEOUT_MS / 1000)
        # With WAL, NORMAL loses nothing on a process crash and at most the last commits on a power cut.
        dbapi.execute("PRAGMA synchronous = NORMAL")
        dbapi.execute("PRAGMA foreign_keys = ON")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql(
            "BEGIN IMMEDIATE" if conn.get_execution_options().get("ribao_write") else "BEGIN"
        )

    return engine


def open_engine(home: Path, url: str | None) -> tuple[Engine, Path | str]:
    """Return the run log's engine and how to name it: Postgres at `url`, else `<home>/runs.sqlite`."""
    if url is None:
        home.mkdir(parents=True, exist_ok=True)
        return sqlite_engine(home / RUNS_FILE), home / RUNS_FILE
    if not is_postgres(url):
        raise StoreUnreachable(f"store.url must be a postgresql:// URL, not {url!r}")
    engine = sa.create_engine(sqlalchemy_url(url), connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    return engine, shown(url)


def open_current(home: Path, url: str | None) -> tuple[Engine, Path | str]:
    """Return `open_engine`'s engine and name, the database migrated to this ribao's schema.

    Raises `RunLogError` when the file is not a SQLite database or is from a newer ribao, and
    `StoreUnreachable` when the Postgres database cannot be reached.
    """
    engine, path = open_engine(home, url)
    try:
        upgrade(engine)
    except sa.exc.OperationalError as exc:
        engine.dispose()
        if url is not None:
            reason = " ".join(str(exc.orig).split())
            raise StoreUnreachable(f"cannot reach the database {path}: {reason}") from exc
        raise RunLogError(f"cannot use the run log {path}: {exc.orig}") from exc
    except sa.exc.DatabaseError as exc:
        engine.dispose()
        raise RunLogError(f"cannot use the run log {path}: {exc.orig}") from exc
    except BaseException:
        engine.dispose()
        raise
    return engine, path
