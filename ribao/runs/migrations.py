"""The run log's one migration history (Alembic, `ribao/runs/alembic/`), for SQLite and Postgres alike.

`upgrade` applies the missing revisions once, whoever else upgrades at the same moment; any command
refuses a database from a newer ribao (a revision it does not know) in one line.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ribao.errors import RunLogError

SCRIPTS = Path(__file__).parent / "alembic"
#: The newest revision; `tests/test_runs_db.py` checks it is the head of `SCRIPTS`.
HEAD = "0003"
#: What the hand-kept SQLite migrations of earlier ribao recorded in `_migrations`.
LEGACY = frozenset(
    {"m001_runs_and_calls", "m002_node_events", "m003_indexes", "m004_run_owner", "m005_deliveries",
     "m006_alembic"}
)  # fmt: skip
# Postgres: one upgrade at a time, held until the upgrading transaction ends.
UPGRADE_LOCK = 0x7269_6261_6F5F_726C  # "ribao_rl"


def revision(conn: Connection) -> str | None:
    """Return the database's Alembic revision, None when it has none (new, or a pre-Alembic log)."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def revisions() -> list[str]:
    """Return every revision this ribao knows, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(SCRIPTS))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def _refuse_newer(conn: Connection, current: str | None) -> None:
    if current is not None and current not in revisions():
        raise RunLogError(
            f"the run log was written by a newer ribao (unknown revision {current}); upgrade ribao"
        )
    if conn.dialect.name == "sqlite" and sa.inspect(conn).has_table("_migrations"):
        names = {r[0] for r in conn.execute(sa.text("SELECT name FROM _migrations"))}
        if unknown := sorted(names - LEGACY):
            raise RunLogError(
                f"the run log was written by a newer ribao (unknown migrations: {', '.join(unknown)}); "
                "upgrade ribao"
            )


def upgrade(engine: Engine) -> list[str]:
    """Bring the run log at `engine` to `HEAD`; return the revisions applied (none when current).

    Raises `RunLogError` for a database from a newer ribao. Two processes at once apply each
    revision once: SQLite's write lock (``BEGIN IMMEDIATE``, see `RunLog`) or a Postgres advisory
    lock is taken before the revision is read.
    """
    try:  # the common case, a current database: one query, no lock
        with engine.connect() as conn:
            if conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == HEAD:
                return []
    except sa.exc.ProgrammingError:
        pass  # Postgres without the table yet
    except sa.exc.OperationalError as exc:
        if "no such table" not in str(exc.orig):  # SQLite without it; anything else is real
            raise
    with engine.connect() as conn:
        conn.execution_options(ribao_write=True)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK})
            current = revision(conn)
            _refuse_newer(conn, current)
            known = revisions()
            todo = known[known.index(current) + 1 :] if current else known
            if todo:
                _alembic_upgrade(conn)
    return todo


def _alembic_upgrade(conn: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = conn
    command.upgrade(config, "head")
