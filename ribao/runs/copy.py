"""Copy a run log into another (a home's SQLite log into Postgres), run by run, the readers' feedback
event by event, and the shared answers key by key, losing nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, text, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from ribao.copy_count import CopyCount
from ribao.runs.db import RunLog
from ribao.runs.schema import TABLES, feedback, runs, shared_work

BATCH = 500


def copy_run_log(source: RunLog, target: RunLog) -> tuple[list[CopyCount], int]:
    """Copy every run of `source` the `target` lacks, with its calls, node tasks and deliveries; return
    per table the rows of the runs this copy added, in each, and how many runs the target had already.

    Row ids are the target's own, given in the source's order (they order calls and deliveries). The
    copy is one transaction: stopped midway, it leaves the target as it was. A run another copy (a
    second `ribao store migrate` at once) adds meanwhile is left to it: the run's row is inserted
    with ON CONFLICT DO NOTHING, which waits for the other transaction, and its rows are copied only
    when the insert added it.
    """
    with source.engine.connect() as src:
        ids = list(src.execute(select(runs.c.run_id).order_by(runs.c.started_at, runs.c.run_id)).scalars())
    with target.engine.connect() as dst:
        present = (
            set(dst.execute(select(runs.c.run_id).where(runs.c.run_id.in_(ids))).scalars()) if ids else set()
        )
    todo = [i for i in ids if i not in present]
    added: list[str] = []
    with source.engine.connect() as src, target.engine.begin() as dst:
        for start in range(0, len(todo), BATCH):
            chunk = todo[start : start + BATCH]
            inserted = _add_runs(src, dst, chunk)
            mine = [i for i in chunk if i in inserted]
            added += mine
            for table in TABLES:
                if table is runs or not mine:
                    continue
                order = [table.c.id] if "id" in table.c else [table.c.run_id]
                picked = src.execute(select(table).where(table.c.run_id.in_(mine)).order_by(*order))
                rows = [{k: v for k, v in r._mapping.items() if k != "id"} for r in picked]
                if rows:
                    dst.execute(table.insert(), rows)
    counts = [_count(source, target, table.name, added) for table in TABLES]
    return counts, len(ids) - len(added)


def _add_runs(src: Connection, dst: Connection, chunk: list[str]) -> set[str]:
    """Insert the `runs` rows of `chunk` the target lacks (in `chunk`'s order); return the ids inserted."""
    by_id = {r.run_id: dict(r._mapping) for r in src.execute(select(runs).where(runs.c.run_id.in_(chunk)))}
    rows = [by_id[i] for i in chunk if i in by_id]
    if not rows:
        return set()
    dialect = {"postgresql": postgresql, "sqlite": sqlite}[dst.dialect.name]
    statement = dialect.insert(runs).values(rows).on_conflict_do_nothing().returning(runs.c.run_id)
    return set(dst.execute(statement).scalars())


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
