"""Copy a run log into another (a home's SQLite log into Postgres), run by run, the readers' feedback
event by event, and the shared answers key by key, losing nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, text, tuple_
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine

from ribao.copy_count import CopyCount
from ribao.runs.db import RunLog
from ribao.runs.schema import TABLES, feedback, runs, shared_work

BATCH = 500


def copy_run_log(source: RunLog, target: RunLog) -> tuple[list[CopyCount], int]:
    """Copy every run of `source` the `target` lacks, with its calls, node tasks and deliveries; return
    per table the rows of the copied runs in each, and how many runs the target had already.

    Row ids are the target's own (they order deliveries, which are copied in id order). The copy is
    one transaction: stopped midway, it leaves the target as it was.
    """
    with source.engine.connect() as src:
        ids = list(src.execute(select(runs.c.run_id).order_by(runs.c.started_at, runs.c.run_id)).scalars())
    with target.engine.connect() as dst:
        present = (
            set(dst.execute(select(runs.c.run_id).where(runs.c.run_id.in_(ids))).scalars()) if ids else set()
        )
    todo = [i for i in ids if i not in present]
    with source.engine.connect() as src, target.engine.begin() as dst:
        for start in range(0, len(todo), BATCH):
            chunk = todo[start : start + BATCH]
            for table in TABLES:
                order = [table.c.id] if "id" in table.c else [table.c.run_id]
                rows = [
                    {k: v for k, v in r._mapping.items() if k != "id"}
                    for r in src.execute(select(table).where(table.c.run_id.in_(chunk)).order_by(*order))
                ]
                if rows:
                    dst.execute(table.insert(), rows)
    return [_count(source, target, table.name, todo) for table in TABLES], len(present)


def _count(source: RunLog, target: RunLog, name: str, ids: list[str]) -> CopyCount:
    table = next(t for t in TABLES if t.name == name)
    counted = []
    for log in (source, target):
        total = 0
        with log.engine.connect() as conn:
            for start in range(0, len(ids), BATCH):
                chunk = ids[start : start + BATCH]
                total += conn.execute(select(func.count()).where(table.c.run_id.in_(chunk))).scalar() or 0
        counted.append(total)
    return CopyCount(name, counted[0], counted[1])


def feedback_rows(engine: Engine) -> list[dict[str, Any]]:
    """Return the feedback events at `engine`, oldest first, without their ids (each database has its own)."""
    with engine.connect() as conn:
        return _rows(conn)


def _rows(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(feedback).order_by(feedback.c.id))
    return [{k: v for k, v in r._mapping.items() if k != "id"} for r in rows]


def _event(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[c] for c in ("profile", "verb", "arxiv_id", "at", "origin"))


def copy_feedback(events: Sequence[dict[str, Any]], target: Engine) -> CopyCount:
    """Add to `target` the feedback `events` (see `feedback_rows`) it lacks, in their order; return how
    many events there are and how many of them the target holds afterwards.

    An event is who said what of which paper, when, from where: a second copy adds nothing, and the
    target's own events (another machine's readers) stay. One transaction, like `copy_run_log`.
    """
    with target.begin() as conn:
        if conn.dialect.name == "postgresql":  # two copies at once: the second reads what the first added
            conn.execute(text("LOCK TABLE feedback IN SHARE ROW EXCLUSIVE MODE"))
        have = Counter(_event(r) for r in _rows(conn))
        todo = []
        for row in events:
            key = _event(row)
            if have[key]:
                have[key] -= 1
            else:
                todo.append(row)
        if todo:
            conn.execute(feedback.insert(), todo)
    wanted = Counter(_event(r) for r in events)
    held = Counter(_event(r) for r in feedback_rows(target))
    return CopyCount(feedback.name, len(events), sum(min(n, held[k]) for k, n in wanted.items()))


def shared_answers(engine: Engine) -> list[dict[str, Any]]:
    """Return the answered rows of `engine`'s shared work (a claim without an answer belongs to a process
    on that database: its lease means nothing elsewhere)."""
    with engine.connect() as conn:
        rows = conn.execute(select(shared_work).where(shared_work.c.value.is_not(None)))
        return [dict(r._mapping) for r in rows]


def copy_shared_work(answers: Sequence[dict[str, Any]], target: Engine) -> CopyCount:
    """Add the shared `answers` (see `shared_answers`) to the Postgres `target`, answering its claims
    on them and keeping its own answers; return how many there are and how many keys `target` has
    answered afterwards. A run resumed there reuses them instead of paying again."""
    key = tuple_(shared_work.c.scope, shared_work.c.kind, shared_work.c.key)
    with target.begin() as conn:
        for start in range(0, len(answers), BATCH):
            stmt = postgresql.insert(shared_work).values(list(answers[start : start + BATCH]))
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[shared_work.c.scope, shared_work.c.kind, shared_work.c.key],
                    set_={"value": stmt.excluded.value, "owner": None, "lease_until": None},
                    where=shared_work.c.value.is_(None),
                )
            )
    held = 0
    with target.connect() as conn:
        for start in range(0, len(answers), BATCH):
            keys = [(a["scope"], a["kind"], a["key"]) for a in answers[start : start + BATCH]]
            counted = select(func.count()).where(key.in_(keys), shared_work.c.value.is_not(None))
            held += conn.execute(counted).scalar() or 0
    return CopyCount(shared_work.name, len(answers), held)
