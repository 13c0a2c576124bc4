"""`ribao store migrate` beside another copy of the same home into the same fresh Postgres: the run the
other copy is adding is left to it (no primary-key violation), nothing is copied twice, and the
readers' feedback keeps the source's order."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
from sqlalchemy import func, select

from ribao.app.store import Migrated, migrate_store
from ribao.profiles.feedback import FeedbackStore
from ribao.runs.db import RunLog
from ribao.runs.schema import TABLES, feedback
from tests.support.eval_runs import recorded_home
from tests.support.graph import sample_settings

#: How long the test waits for the migrate to reach the other copy's uncommitted run (a hang guard only).
WAIT_S = 120


def _counts(log: RunLog) -> dict[str, int]:
    with log.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar() or 0 for t in TABLES}


def _waits_on_a_lock(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
    return bool(row and row[0])


def test_a_run_another_migrate_is_adding_is_left_to_it(tmp_path: Path, postgres_url: str) -> None:
    home, run_id = recorded_home(tmp_path)
    settings = sample_settings(tmp_path)
    assert settings.home == home
    with FeedbackStore.open(home, None) as store:  # events within one second: only their ids order them
        for n, verb in enumerate(["like", "dislike", "like", "not-interested", "dislike"] * 4):
            store.add("default" if n % 3 else "alice", verb, [f"2602.{15060 + n % 7}"])
    with RunLog.open(home, secrets=()) as source, RunLog.open(home, url=postgres_url, secrets=()) as other:
        wanted = _counts(source)
        # The other migrate has copied the run and its rows, and not committed yet.
        with other.engine.connect() as conn, source.engine.connect() as src:
            pending = conn.begin()
            for table in TABLES:
                picked = src.execute(select(table).where(table.c.run_id == run_id))
                rows = [{k: v for k, v in r._mapping.items() if k != "id"} for r in picked]
                if rows:
                    conn.execute(table.insert(), rows)
            done: list[Migrated | BaseException] = []

            def migrate() -> None:
                try:
                    done.append(migrate_store(settings, postgres_url))
                except BaseException as exc:  # handed to the test thread
                    done.append(exc)

            worker = threading.Thread(target=migrate)
            worker.start()
            for _ in range(WAIT_S * 10):  # until this migrate waits for the other's transaction
                if _waits_on_a_lock(postgres_url) or not worker.is_alive():
                    break
                threading.Event().wait(0.1)
            pending.commit()
            worker.join(WAIT_S)
        (result,) = done
        assert isinstance(result, Migrated), result
        assert result.ok and result.runs_present == 1, result.counts
        assert _counts(other) == wanted  # each row once
        assert _feedback(other) == _feedback(source)  # the events in the source's order


def _feedback(log: RunLog) -> list[tuple[object, ...]]:
    with log.engine.connect() as conn:
        rows = conn.execute(select(feedback).order_by(feedback.c.id))
        return [tuple(v for k, v in r._mapping.items() if k != "id") for r in rows]
