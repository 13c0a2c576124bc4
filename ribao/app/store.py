"""Where runs, checkpoints and memory live: upgrade the databases (`ribao db upgrade`); copy a home's run
log, readers' feedback, checkpoints and memory to a Postgres database and a Chroma server (`ribao store
migrate`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import sqlalchemy as sa

from ribao.copy_count import CopyCount
from ribao.errors import BadFlag, RibaoError, RunLogError
from ribao.graph.checkpoint import open_checkpointer
from ribao.graph.checkpoint_copy import copy_checkpoints
from ribao.memory.transfer import copy_memory
from ribao.profiles.feedback_legacy import LEGACY_FILE, import_legacy, legacy_rows
from ribao.runs.backend import (
    CHECKPOINTS_FILE,
    RUNS_FILE,
    check_reachable,
    checkpoint_target,
    is_postgres,
    shown,
)
from ribao.runs.copy import copy_feedback, copy_run_log, copy_shared_work, feedback_rows, shared_answers
from ribao.runs.db import RunLog
from ribao.runs.engine import open_engine
from ribao.runs.migrations import HEAD, upgrade
from ribao.settings import Settings
from ribao.settings_models import check_memory_url


@dataclass
class Upgraded:
    """What `upgrade_store` did: where, the run-log revisions applied, the revision now."""

    where: str
    applied: list[str]
    revision: str = HEAD


def upgrade_store(settings: Settings) -> Upgraded:
    """Bring the run log (and, on Postgres, the checkpoint tables) to this ribao's schema; applying
    nothing when current; on SQLite an older home's `feedback.sqlite` is moved into the run log. Two at
    once apply each migration once. Raises `RunLogError` for a database from a newer ribao,
    `StoreUnreachable` when `store.url` cannot be reached."""
    url = settings.store.url
    if url:
        check_reachable(url)
    engine, where = open_engine(settings.home, url)
    try:
        applied = upgrade(engine)
        if not url:
            import_legacy(engine, settings.home)
    except sa.exc.DatabaseError as exc:  # e.g. a role without the right to create or read the tables
        raise RunLogError(f"cannot use the run log {where}: {' '.join(str(exc.orig).split())}") from exc
    finally:
        engine.dispose()

    async def setup() -> None:
        async with open_checkpointer(checkpoint_target(settings.home, url)):
            pass

    asyncio.run(setup())
    return Upgraded(str(where), applied)


@dataclass
class Migrated:
    """What `migrate_store` copied, with the counts it checked (source/target, in the order copied)."""

    to: str
    memory_url: str | None
    runs_present: int = 0
    counts: list[CopyCount] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every count matched."""
        return all(c.ok for c in self.counts)


def migrate_store(settings: Settings, to: str, memory_url: str | None = None) -> Migrated:
    """Copy the home's SQLite run log, readers' feedback, shared answers and checkpoints into the Postgres
    database `to`, and its embedded memory to the Chroma server `memory_url` when given; the home is only
    read. Raises `BadFlag` for a URL of the wrong kind, `StoreUnreachable` for one that cannot be reached
    (both before copying anything), and `RibaoError` when the home holds nothing to copy or a count
    differs after the copy."""
    if not is_postgres(to):
        raise BadFlag(f"--to must be a postgresql:// URL, not {to!r}")
    if memory_url is not None:
        try:
            check_memory_url(memory_url)
        except ValueError as exc:
            raise BadFlag(f"--memory-url: {exc}") from None
    check_reachable(to)
    home = settings.home
    done = Migrated(shown(to), memory_url)
    legacy = home / LEGACY_FILE  # feedback an older ribao kept in a file of its own
    if (home / RUNS_FILE).exists() or legacy.exists():
        with RunLog.open(home, secrets=()) as source, RunLog.open(home, url=to, secrets=()) as target:
            tables, done.runs_present = copy_run_log(source, target)
            done.counts += tables
            events = feedback_rows(source.engine) + (legacy_rows(legacy) if legacy.exists() else [])
            if events:
                done.counts.append(copy_feedback(events, target.engine))
            # Answers a scope's runs paid for: a run resumed on the servers reuses them, not repays them.
            answers = shared_answers(source.engine)
            if answers:
                done.counts.append(copy_shared_work(answers, target.engine))
    if (home / CHECKPOINTS_FILE).exists():
        done.counts += asyncio.run(copy_checkpoints(home / CHECKPOINTS_FILE, to))
    memory = home / "memory"
    if memory_url and memory.is_dir():
        done.counts += copy_memory(memory, memory_url, settings.memory.timeout_seconds)
    if not done.counts:  # a wrong RIBAO_HOME, or a home that wrote to the servers from the start
        raise RibaoError(
            f"nothing to copy: {home} holds no run log"
            + (", checkpoints or memory" if memory_url else " or checkpoints")
            + " (is RIBAO_HOME the home you mean to move?)"
        )
    if not done.ok:
        raise RibaoError(f"the copy to {done.to} lost rows: {describe(done)}")
    return done


def describe(done: Migrated) -> str:
    """Return the copy's counts on one line: ``runs 3/3, llm_calls 11/11, …`` (source/target)."""
    return ", ".join(map(str, done.counts))
