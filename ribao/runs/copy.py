"""Copy a run log into another (a home's SQLite log into Postgres), run by run, and the readers' feedback
event by event, losing nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from ribao.runs.db import RunLog
from ribao.runs.schema import TABLES, feedback, runs

BATCH = 500


@dataclass(frozen=True)
class TableCount:
    """One table of a copy: rows of the copied runs in the source, the same in the target afterwards."""

    table: str
    source: int
    target: int

    @property
    def ok(self) -> bool:
        """True when the target holds every row of the source."""
        return self.source == self.target


def copy_run_log(source: RunLog, target: RunLog) -> tuple[list[TableCount], int]:
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


def _count(source: RunLog, target: RunLog, name: str, ids: list[str]) -> TableCount:
    table = next(t for t in TABLES if t.name == name)
    counted = []
    for log in (source, target):
        total = 0
        with log.engine.connect() as conn:
            for start in range(0, len(ids), BATCH):
                chunk = ids[start : start + BATCH]
                total += conn.execute(select(func.count()).where(table.c.run_id.in_(chunk))).scalar() or 0
        counted.append(total)
    return TableCount(name, counted[0], counted[1])


def feedback_rows(engine: Engine) -> list[dict[str, Any]]:
    """Return the feedback events at `engine`, oldest first, without their ids (each database has its own)."""
    with engine.connect() as conn:
        rows = conn.execute(select(feedback).order_by(feedback.c.id))
        return [{k: v for k, v in r._mapping.items() if k != "id"} for r in rows]


def _event(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[c] for c in ("profile", "verb", "arxiv_id", "at", "origin"))


def copy_feedback(events: Sequence[dict[str, Any]], target: Engine) -> TableCount:
    """Add to `target` the feedback `events` (see `feedback_rows`) it lacks, in their order; return how
    many events there are and how many of them the target holds afterwards.

    An event is who said what of which paper, when, from where: a second copy adds nothing, and the
    target's own events (another machine's readers) stay. One transaction, like `copy_run_log`.
    """
    have = Counter(_event(r) for r in feedback_rows(target))
    todo = []
    for row in events:
        key = _event(row)
        if have[key]:
            have[key] -= 1
        else:
            todo.append(row)
    if todo:
        with target.begin() as conn:
            conn.execute(feedback.insert(), todo)
    wanted = Counter(_event(r) for r in events)
    held = Counter(_event(r) for r in feedback_rows(target))
    return TableCount(feedback.name, len(events), sum(min(n, held[k]) for k, n in wanted.items()))
