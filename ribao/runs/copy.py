"""Copy a run log into another (a home's SQLite log into Postgres), run by run, losing nothing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ribao.runs.db import RunLog
from ribao.runs.schema import TABLES, runs

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
