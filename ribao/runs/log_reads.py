"""The run log's read queries (runs, calls, node tasks, usage, deliveries, digests), `RunLog`'s base."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from ribao.errors import RunNotFound
from ribao.runs.rows import AgentUsage, CallRow, NodeRow, RunRow, sum_usage, usage_of
from ribao.runs.schema import deliveries as deliveries_table
from ribao.runs.schema import llm_calls, node_events, runs


class RunLogReads:
    """Read the run log through `engine`; `path` names it in errors."""

    engine: Engine
    path: Path | str

    def _rows(self, query: Any) -> list[Any]:
        """Return the rows of a read query, each as a mapping."""
        with self.engine.connect() as conn:
            return [r._mapping for r in conn.execute(query)]

    def deliveries(self, run_id: str) -> list[dict[str, Any]]:
        """Return a run's push records, oldest first (a re-send by `ribao push` adds rows)."""
        t = deliveries_table
        return [dict(r) for r in self._rows(select(t).where(t.c.run_id == run_id).order_by(t.c.id))]

    def digest_paths(self, date: dt.date | None = None) -> dict[dt.date, tuple[str, Path]]:
        """Return, per announcement day (only `date` when given), the run id and `<date>.json` path of
        its newest finished ``done`` run: the digest the run log says is the day's latest.

        The path is as recorded (absolute since runs resolve `out_dir`); the file may be gone since.
        """
        query = (
            select(runs.c.run_id, runs.c.date, runs.c.json_path)
            .where(runs.c.status == "done", runs.c.json_path.is_not(None), runs.c.date.is_not(None))
            .order_by(runs.c.finished_at.desc(), runs.c.run_id.desc())
        )
        if date:
            query = query.where(runs.c.date == date.isoformat())
        found: dict[dt.date, tuple[str, Path]] = {}
        for row in self._rows(query):
            found.setdefault(dt.date.fromisoformat(row["date"]), (row["run_id"], Path(row["json_path"])))
        return found

    def list_runs(self, status: str | None = None, limit: int = 50) -> list[RunRow]:
        """Return the latest runs first, optionally only those with `status`.

        A ``running`` run whose process is gone counts as ``interrupted`` (see `RunRow.from_db`).
        """
        newest = select(runs).order_by(runs.c.started_at.desc(), runs.c.run_id.desc())
        if status in ("running", "interrupted"):
            rows = self._rows(newest.where(runs.c.status.in_(("running", "interrupted"))))
            return [run for run in map(self._run, rows) if run.status == status][:limit]
        if status:
            newest = newest.where(runs.c.status == status)
        return [self._run(r) for r in self._rows(newest.limit(limit))]

    def get_run(self, ref: str) -> RunRow:
        """Return the run whose id is `ref`, starts with `ref` (any case), or for ``latest`` the newest
        run that is not a replay, failed replays included (a replay records no checkpoint of its own:
        it cannot be resumed or replayed; name it by id).

        Raises `RunNotFound` when nothing matches or a prefix matches several runs.
        """
        ref = ref.strip()
        newest = select(runs).order_by(runs.c.started_at.desc(), runs.c.run_id.desc())
        if ref.lower() == "latest":
            with self.engine.connect() as conn:
                # A failed replay is ``failed``: its settings name what it replayed.
                for row in conn.execute(newest.where(runs.c.status != "replay")):
                    if json.loads(row.settings or "{}").get("replay_of") is None:
                        return self._run(row._mapping)
            raise RunNotFound(f"no runs recorded in {self.path}")
        exact = self._rows(select(runs).where(runs.c.run_id == ref))
        if exact:
            return self._run(exact[0])
        rows = self._rows(newest.where(runs.c.run_id.istartswith(ref, autoescape=True)).limit(6))
        if not rows or not ref:
            raise RunNotFound(f"no run {ref!r} in {self.path} (see `ribao runs list`)")
        if len(rows) > 1:
            shown_ids = ", ".join(r["run_id"] for r in rows[:5]) + (", …" if len(rows) > 5 else "")
            raise RunNotFound(f"run id prefix {ref!r} is ambiguous: {shown_ids}; give more characters")
        return self._run(rows[0])

    def day_run_id(self, ref: str) -> str | None:
        """Return the day run `ref` names (a day run id or prefix, or one of its profile runs, ``latest``
        included); None when `ref` is a run of one profile. Raises `RunNotFound` when nothing matches."""
        prefix = ref.strip().lower()
        days = sorted({d for d, _ in self._day_run_rows() if d.lower().startswith(prefix)})
        if len(days) == 1 and prefix:
            return days[0]
        if len(days) > 1 and prefix:
            shown = ", ".join(days[:5])
            raise RunNotFound(f"day run prefix {ref!r} is ambiguous: {shown}; give more characters")
        day = self.get_run(ref).settings.get("day_run")
        return str(day) if day else None

    def profile_runs(self, day_run: str) -> list[RunRow]:
        """Return the profile runs of day run `day_run`, in the order they started."""
        return [self._run(row) for day, row in self._day_run_rows() if day == day_run]

    def _day_run_rows(self) -> list[tuple[str, Any]]:
        """Return (day run id, row) of every profile run, in the order they started (the day run is a
        label in the settings JSON: read here, the same way on SQLite and Postgres)."""
        query = (
            select(runs)
            .where(runs.c.settings.contains('"day_run"', autoescape=True))
            .order_by(runs.c.started_at, runs.c.run_id)
        )
        out = []
        for row in self._rows(query):
            day = json.loads(row["settings"] or "{}").get("day_run")
            if day:
                out.append((str(day), row))
        return out

    def _run(self, row: Any) -> RunRow:
        """Build a `RunRow`; a run not finished yet (running, or interrupted) has the totals of the
        calls recorded so far, since its row's totals are written when it ends."""
        run = RunRow.from_db(row)
        if run.finished_at is not None:
            return run
        total = sum_usage(self.usage_by_agent(run.run_id).values(), run.currency)
        return run.model_copy(update=total.model_dump(exclude={"calls"}))

    def calls(self, run_id: str, agent: str | None = None) -> list[CallRow]:
        """Return a run's LLM calls in recording order, optionally only `agent`'s."""
        query = select(llm_calls).where(llm_calls.c.run_id == run_id).order_by(llm_calls.c.seq)
        if agent:
            query = query.where(llm_calls.c.agent == agent)
        return [CallRow.from_db(r) for r in self._rows(query)]

    def nodes(self, run_id: str) -> list[NodeRow]:
        """Return a run's node tasks in the order they finished."""
        query = select(node_events).where(node_events.c.run_id == run_id).order_by(node_events.c.seq)
        return [NodeRow.from_db(r) for r in self._rows(query)]

    def usage_by_agent(self, run_id: str) -> dict[str, AgentUsage]:
        """Return each agent's calls, tokens and cost in a run, agents in order of their first call."""
        c = llm_calls.c
        rows = self._rows(
            select(c.agent, c.input_tokens, c.output_tokens, c.cached_tokens, c.cost, c.currency)
            .where(c.run_id == run_id)
            .order_by(c.seq)
        )
        grouped: dict[str, list[Any]] = {}
        for row in rows:
            grouped.setdefault(row["agent"], []).append(row)
        return {agent: usage_of(calls) for agent, calls in grouped.items()}
