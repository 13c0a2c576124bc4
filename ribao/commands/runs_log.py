"""Where the run log is and how the `ribao runs` commands open and print it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ribao.runs.db import RunLog


def run_log_path() -> Path:
    """Return `<home>/runs.sqlite` of the effective settings (`load_settings`: home from `RIBAO_HOME`,
    config.toml checked); raises `ConfigError` on bad settings."""
    from ribao.runs.backend import RUNS_FILE
    from ribao.settings import load_settings

    return load_settings().home / RUNS_FILE


def require_run_log() -> Path:
    """Return the run log's path; raises `RunNotFound` when no run was ever recorded (no file is created)."""
    from ribao.errors import RunNotFound

    path = run_log_path()
    if not path.exists():
        raise RunNotFound(f"no runs recorded yet: {path} does not exist")
    return path


def open_log() -> RunLog:
    """Open the run log (at `store.url` when set); raises `RunNotFound` when no run was ever recorded in
    the home's SQLite run log (no file is created)."""
    from ribao.runs.db import RunLog
    from ribao.settings import load_settings

    url = store_url()
    if url:
        return RunLog.open(load_settings().home, url=url)
    return RunLog.open(require_run_log().parent)


def store_url() -> str | None:
    """Return `store.url` of the effective settings (None: the home's SQLite run log)."""
    from ribao.settings import load_settings

    return load_settings().store.url


def table_console() -> Any:
    """A console for tables: the terminal's width (or ``COLUMNS``), or, piped as in ``runs list | grep``,
    wide enough that no row is wrapped or cut: rich would otherwise assume 80 columns and clip ids."""
    import os
    import sys

    from rich.console import Console

    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(highlight=False, soft_wrap=False, width=400 if piped else None)
