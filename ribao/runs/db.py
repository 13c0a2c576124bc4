"""The run log: `<home>/runs.sqlite`, one row per run, LLM call and node task (stdlib sqlite3, WAL)."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ribao.errors import RunNotFound
from ribao.ledger import add_costs, add_tokens
from ribao.masking import mask_keys, scrub_value
from ribao.runs.migrations import RunLogError, migrate
from ribao.runs.redact import known_secrets, safe_settings
from ribao.runs.rows import (
    STATUSES,
    AgentUsage,
    CallRow,
    NodeRow,
    RunRow,
    iso_utc,
    jsonable,
    sum_usage,
)

if TYPE_CHECKING:
    from ribao.calls import LLMCall
    from ribao.llm.config import ModelConfig
    from ribao.settings import Settings

FILENAME = "runs.sqlite"
BUSY_TIMEOUT_MS = 10_000


class RunLog:
    """Read and write the run log; one sqlite3 connection per instance, safe beside other processes.

    Every text written (settings, messages, replies, errors, node data) is scrubbed of the values
    of secret env vars (see `redact.known_secrets`) and of credential-looking strings first.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, secrets: Iterable[str] = ()) -> None:
        self.conn = conn
        self.path = path
        self.secrets = set(secrets)
        self._lock = threading.Lock()

    @classmethod
    def open(cls, home: Path, *, secrets: Iterable[str] | None = None) -> RunLog:
        """Open (creating and migrating) `<home>/runs.sqlite`; `secrets` default: `known_secrets()`.

        Raises `RunLogError` when the file is not a SQLite database or is from a newer ribao.
        """
        home.mkdir(parents=True, exist_ok=True)
        path = home / FILENAME
        conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            # With WAL, NORMAL loses nothing on a process crash and at most the last commits on a power cut.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            migrate(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise RunLogError(f"cannot use the run log {path}: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        conn.row_factory = sqlite3.Row
        return cls(conn, path, known_secrets() if secrets is None else secrets)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> RunLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _json(self, value: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(scrub_value(jsonable(value), self.secrets), ensure_ascii=False)

    def _text(self, value: str | None) -> str | None:
        return None if value is None else scrub_value(value, self.secrets)  # type: ignore[no-any-return]

    def _write(self, run_id: str, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """Run `sql` once per row in one write transaction; return the number of rows changed."""
        changed = 0
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                for row in rows:
                    changed += self.conn.execute(sql, row).rowcount
                self.conn.execute("COMMIT")
            except sqlite3.IntegrityError as exc:
                self.conn.execute("ROLLBACK")
                raise RunNotFound(
                    f"cannot record run {run_id} in {self.path} ({exc}): start_run first"
                ) from exc
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        return changed

    def start_run(
        self,
        run_id: str,
        *,
        settings: Settings | Mapping[str, Any],
        date: dt.date | None = None,
        categories: Sequence[str] = (),
        prompts: Mapping[str, Mapping[str, str]] | None = None,
        models: Mapping[str, ModelConfig] | None = None,
        labels: Mapping[str, Any] | None = None,
    ) -> None:
        """Record a run as ``running``; `settings` a `Settings` (made safe here) or a `safe_settings` dict.

        `models` (agent -> resolved `ModelConfig`) records which model each agent used; `labels`
        are added to the recorded settings (a replay's ``replay_of`` and ``replay_agent``).
        For an id already on record (a resumed run) the status goes back to ``running`` and the
        calls and node events recorded so far are kept.
        """
        if isinstance(settings, Mapping):
            data: dict[str, Any] = mask_keys(dict(settings))
        else:
            self.secrets |= known_secrets(settings)
            data = safe_settings(settings, models)
        data.update(labels or {})
        self._write(
            run_id,
            """INSERT INTO runs (run_id, status, started_at, date, categories, settings, prompts, pid, host)
               VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (run_id) DO UPDATE SET status = 'running', finished_at = NULL, error = NULL,
                 date = COALESCE(excluded.date, date), categories = excluded.categories,
                 settings = excluded.settings, pid = excluded.pid, host = excluded.host""",
            [(run_id, iso_utc(), jsonable(date), self._json(list(categories)), self._json(data),
              self._json(dict(prompts or {})), os.getpid(), socket.gethostname())],
        )  # fmt: skip

    def record_node(
        self,
        run_id: str,
        *,
        node: str,
        task_id: str | None,
        started_at: dt.datetime | None,
        finished_at: dt.datetime,
        inputs: Any = None,
        outputs: Any = None,
        error: str | None = None,
        summary: str | None = None,
    ) -> None:
        """Record one finished node task; `inputs`/`outputs` JSON-able (pydantic models are dumped)."""
        seconds = (finished_at - started_at).total_seconds() if started_at else None
        self._write(
            run_id,
            """INSERT INTO node_events (run_id, seq, node, task_id, started_at, finished_at, duration_s,
                 inputs, outputs, summary, error)
               VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM node_events WHERE run_id = ?),
                 ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [(run_id, run_id, node, task_id, iso_utc(started_at) if started_at else None,
              iso_utc(finished_at), seconds, self._json(inputs), self._json(outputs), self._text(summary),
              self._text(error))],
        )  # fmt: skip

    def record_calls(
        self,
        run_id: str,
        node: str,
        calls: Sequence[LLMCall],
        *,
        task_id: str | None = None,
    ) -> None:
        """Record `calls` (in order) made by one task of `node`, each with the cost it was priced at."""
        self._write(
            run_id,
            """INSERT INTO llm_calls (run_id, seq, node, task_id, agent, model, task, messages, raw, parsed,
                 input_tokens, output_tokens, cached_tokens, latency_s, cost, currency, error, created_at)
               VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM llm_calls WHERE run_id = ?),
                 ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [(run_id, run_id, node, task_id, c.agent, c.model, self._text(c.task), self._json(c.messages),
              self._text(c.raw), self._json(c.parsed), c.input_tokens, c.output_tokens, c.cached_tokens,
              c.latency_s, c.cost, c.currency, self._text(c.error), iso_utc())
             for c in calls],
        )  # fmt: skip

    def finish_run(
        self,
        run_id: str,
        *,
        status: str,
        date: dt.date | None = None,
        digest_path: Path | str | None = None,
        json_path: Path | str | None = None,
        error: str | None = None,
        picks: Sequence[Any] = (),
        critiques: Sequence[Any] = (),
        cost: float | None = None,
        currency: str | None = None,
        usage: Mapping[str, int] | None = None,
        prompts: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        """Record how a run ended. Raises `ValueError` for a status outside `STATUSES`.

        Empty `picks` or `critiques` keep those on record, and `prompts` are added to those on
        record, so a resumed run (which sees only its own part) keeps what the first part recorded.

        Tokens come from `usage` (``input_tokens``, ``output_tokens``, ``cached_tokens``), else are
        summed over the calls on record. Cost: given `currency`, `cost` is taken as is (None = unknown);
        with neither, it is summed over the calls on record (None if any call's cost is unknown or
        the currencies differ), so per-agent totals always add up to the run's.
        """
        if status not in STATUSES:
            raise ValueError(f"unknown run status {status!r}; expected one of {', '.join(STATUSES)}")
        total = sum_usage(self.usage_by_agent(run_id).values())
        if usage is None:
            usage = total.model_dump(include={"input_tokens", "output_tokens", "cached_tokens"})
        if currency is None and cost is None:
            cost, currency = total.cost, total.currency
        changed = self._write(
            run_id,
            # A resumed run reports only what its own part saw: the picks, critic rounds and prompt
            # files recorded before the resume stay unless it brings new ones.
            """UPDATE runs SET status = ?, finished_at = ?, date = COALESCE(?, date), digest_path = ?,
                 json_path = ?, error = ?, picks = COALESCE(?, picks, '[]'),
                 critiques = COALESCE(?, critiques, '[]'), cost = ?, currency = ?,
                 input_tokens = ?, output_tokens = ?, cached_tokens = ?,
                 prompts = COALESCE(json_patch(COALESCE(prompts, '{}'), ?), prompts)
               WHERE run_id = ?""",
            [(status, iso_utc(), jsonable(date), jsonable(digest_path), jsonable(json_path),
              self._text(error), self._json(list(picks)) if picks else None,
              self._json(list(critiques)) if critiques else None, cost, currency,
              usage.get("input_tokens", 0), usage.get("output_tokens", 0), usage.get("cached_tokens", 0),
              self._json(dict(prompts)) if prompts is not None else None, run_id)],
        )  # fmt: skip
        if not changed:
            raise RunNotFound(f"cannot finish run {run_id}: it is not in {self.path} (start_run first)")

    def record_deliveries(self, run_id: str, deliveries: Sequence[Any]) -> None:
        """Record one row per push channel (`DeliveryRecord`s or their dicts) of a run or a re-send."""
        rows = [d if isinstance(d, Mapping) else d.model_dump() for d in deliveries]
        self._write(
            run_id,
            """INSERT INTO deliveries (run_id, channel, scheme, format, status, parts, bytes, cut, attempts,
                 error, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [(run_id, d["channel"], d["scheme"], d["format"], d["status"], d["parts"], d["bytes"], d["cut"],
              d["attempts"], self._text(d.get("error")), iso_utc()) for d in rows],
        )  # fmt: skip

    def deliveries(self, run_id: str) -> list[dict[str, Any]]:
        """Return a run's push records, oldest first (a re-send by `ribao push` adds rows)."""
        rows = self.conn.execute("SELECT * FROM deliveries WHERE run_id = ? ORDER BY id", [run_id])
        return [dict(r) for r in rows]

    def digest_paths(self, date: dt.date | None = None) -> dict[dt.date, tuple[str, Path]]:
        """Return, per announcement day (only `date` when given), the run id and `<date>.json` path of
        its newest finished ``done`` run: the digest the run log says is the day's latest.

        The path is as recorded (absolute since runs resolve `out_dir`); the file may be gone since.
        """
        where, args = ("AND date = ?", [date.isoformat()]) if date else ("", [])
        rows = self.conn.execute(
            f"""SELECT run_id, date, json_path FROM runs
                WHERE status = 'done' AND json_path IS NOT NULL AND date IS NOT NULL {where}
                ORDER BY finished_at DESC, run_id DESC""",
            args,
        )
        found: dict[dt.date, tuple[str, Path]] = {}
        for row in rows:
            found.setdefault(dt.date.fromisoformat(row["date"]), (row["run_id"], Path(row["json_path"])))
        return found

    def list_runs(self, status: str | None = None, limit: int = 50) -> list[RunRow]:
        """Return the latest runs first, optionally only those with `status`.

        A ``running`` run whose process is gone counts as ``interrupted`` (see `RunRow.from_db`).
        """
        if status in ("running", "interrupted"):
            rows = self.conn.execute(
                "SELECT * FROM runs WHERE status IN ('running', 'interrupted') "
                "ORDER BY started_at DESC, run_id DESC"
            )
            return [run for run in map(self._run, rows) if run.status == status][:limit]
        where, args = ("WHERE status = ?", [status]) if status else ("", [])
        rows = self.conn.execute(
            f"SELECT * FROM runs {where} ORDER BY started_at DESC, run_id DESC LIMIT ?", [*args, limit]
        )
        return [self._run(r) for r in rows]

    def get_run(self, ref: str) -> RunRow:
        """Return the run whose id is `ref`, starts with `ref` (any case), or for ``latest`` the newest
        run that is not a replay, failed replays included (a replay records no checkpoint of its own:
        it cannot be resumed or replayed; name it by id).

        Raises `RunNotFound` when nothing matches or a prefix matches several runs.
        """
        ref = ref.strip()
        if ref.lower() == "latest":
            row = self.conn.execute(  # a failed replay is ``failed``: its settings name what it replayed
                "SELECT * FROM runs WHERE status != 'replay'"
                " AND json_extract(settings, '$.replay_of') IS NULL ORDER BY started_at DESC, run_id DESC"
            ).fetchone()
            if row is None:
                raise RunNotFound(f"no runs recorded in {self.path}")
            return self._run(row)
        row = self.conn.execute("SELECT * FROM runs WHERE run_id = ?", [ref]).fetchone()
        if row is not None:
            return self._run(row)
        escaped = ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self.conn.execute(
            "SELECT * FROM runs WHERE run_id LIKE ? ESCAPE '\\' ORDER BY started_at DESC LIMIT 6",
            [escaped + "%"],
        ).fetchall()
        if not rows or not ref:
            raise RunNotFound(f"no run {ref!r} in {self.path} (see `ribao runs list`)")
        if len(rows) > 1:
            shown = ", ".join(r["run_id"] for r in rows[:5]) + (", …" if len(rows) > 5 else "")
            raise RunNotFound(f"run id prefix {ref!r} is ambiguous: {shown}; give more characters")
        return self._run(rows[0])

    def day_run_id(self, ref: str) -> str | None:
        """Return the day run `ref` names (a day run id or prefix, or one of its profile runs, ``latest``
        included); None when `ref` is a run of one profile. Raises `RunNotFound` when nothing matches."""
        escaped = ref.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        days = self.conn.execute(
            "SELECT DISTINCT json_extract(settings, '$.day_run') FROM runs"
            " WHERE json_extract(settings, '$.day_run') LIKE ? ESCAPE '\\'",
            [escaped + "%"],
        ).fetchall()
        if len(days) == 1 and ref.strip():
            return str(days[0][0])
        if len(days) > 1:
            shown = ", ".join(str(d[0]) for d in days[:5])
            raise RunNotFound(f"day run prefix {ref!r} is ambiguous: {shown}; give more characters")
        day = self.get_run(ref).settings.get("day_run")
        return str(day) if day else None

    def profile_runs(self, day_run: str) -> list[RunRow]:
        """Return the profile runs of day run `day_run`, in the order they started."""
        rows = self.conn.execute(
            "SELECT * FROM runs WHERE json_extract(settings, '$.day_run') = ? ORDER BY started_at, run_id",
            [day_run],
        )
        return [self._run(r) for r in rows]

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
        where, args = ("AND agent = ?", [agent]) if agent else ("", [])
        rows = self.conn.execute(
            f"SELECT * FROM llm_calls WHERE run_id = ? {where} ORDER BY seq", [run_id, *args]
        )
        return [CallRow.from_db(r) for r in rows]

    def nodes(self, run_id: str) -> list[NodeRow]:
        """Return a run's node tasks in the order they finished."""
        rows = self.conn.execute("SELECT * FROM node_events WHERE run_id = ? ORDER BY seq", [run_id])
        return [NodeRow.from_db(r) for r in rows]

    def usage_by_agent(self, run_id: str) -> dict[str, AgentUsage]:
        """Return each agent's calls, tokens and cost in a run, agents in order of their first call."""
        rows = self.conn.execute(
            """SELECT agent, input_tokens, output_tokens, cached_tokens, cost, currency
               FROM llm_calls WHERE run_id = ? ORDER BY seq""",
            [run_id],
        )
        grouped: dict[str, list[Any]] = {}
        for row in rows:
            grouped.setdefault(row["agent"], []).append(row)
        out = {}
        for agent, calls in grouped.items():
            cost, currency = add_costs((c["cost"], c["currency"]) for c in calls)
            tokens = add_tokens(calls)
            out[agent] = AgentUsage(
                calls=len(calls),
                input_tokens=tokens.input_tokens,
                output_tokens=tokens.output_tokens,
                cached_tokens=tokens.cached_tokens,
                cost=cost,
                currency=currency,
            )
        return out
