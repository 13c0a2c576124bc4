"""Which database holds the run log and the checkpoints: SQLite files in the home, or a Postgres URL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from ribao.errors import StoreUnreachable
from ribao.settings_models import POSTGRES_SCHEMES

RUNS_FILE = "runs.sqlite"
CHECKPOINTS_FILE = "checkpoints.sqlite"
CONNECT_TIMEOUT_S = 5


def is_postgres(url: str | None) -> bool:
    """Return True when `url` names a Postgres database (any of `POSTGRES_SCHEMES`)."""
    return bool(url) and str(url).startswith(POSTGRES_SCHEMES)


def libpq_url(url: str) -> str:
    """Return `url` as libpq (psycopg) takes it: ``postgresql://…``."""
    for scheme in POSTGRES_SCHEMES:
        if url.startswith(scheme):
            return "postgresql://" + url[len(scheme) :]
    raise ValueError(f"not a Postgres URL: {url!r}")


def sqlalchemy_url(url: str) -> str:
    """Return `url` naming SQLAlchemy's psycopg 3 driver (the one installed; 2.0 defaulted to psycopg2)."""
    return "postgresql+psycopg://" + libpq_url(url).removeprefix("postgresql://")


def shown(url: str) -> str:
    """Return `url` without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(sqlalchemy_url(url)).render_as_string(hide_password=True).replace("+psycopg", "")


def checkpoint_target(home: Path, url: str | None) -> Path | str:
    """Return where checkpoints live: the Postgres `url` when set, else `<home>/checkpoints.sqlite`."""
    if url and not is_postgres(url):
        raise StoreUnreachable(f"store.url must be a postgresql:// URL, not {url!r}")
    return libpq_url(url) if url else home / CHECKPOINTS_FILE


def check_reachable(url: str) -> None:
    """Connect to the Postgres `url` once; raise `StoreUnreachable` in one line when that fails."""
    import psycopg

    try:
        with psycopg.connect(libpq_url(url), connect_timeout=CONNECT_TIMEOUT_S, autocommit=True):
            pass
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise StoreUnreachable(f"cannot reach the database {shown(url)}: {reason}") from exc


def lost_database(url: str | None, exc: BaseException) -> StoreUnreachable | None:
    """Return the one-line error for `exc` when it says the Postgres database of `url` went away mid-use
    (a restart, a stop, a dropped connection), else None: such errors are a connection's, not a query's."""
    if not is_postgres(url):
        return None
    import psycopg
    from sqlalchemy.exc import DBAPIError

    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    if not isinstance(cause, psycopg.OperationalError | psycopg.InterfaceError):
        return None
    # No SQLSTATE: the connection failed or broke; 08: a connection exception; 57P: the server shuts down.
    state = cause.sqlstate or ""
    if state and not state.startswith(("08", "57P")):
        return None
    reason = " ".join(str(cause).split()) or type(cause).__name__
    return StoreUnreachable(f"lost the database {shown(str(url))} mid-run: {reason}")


@contextlib.contextmanager
def database_faults(url: str | None) -> Iterator[None]:
    """Turn the database of `url` going away inside the block into `lost_database`'s one-line error."""
    try:
        yield
    except Exception as exc:
        lost = lost_database(url, exc)
        if lost is None:
            raise
        raise lost from exc
