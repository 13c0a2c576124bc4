"""The run log: one row per run, LLM call and node task, in `<home>/runs.sqlite` (SQLite, WAL) or in
the Postgres database of `store.url` (SQLAlchemy Core over `ribao.runs.schema`)."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import tenacity
from sqlalchemy import event, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from ribao.errors import RunNotFound, StoreUnreachable
from ribao.ledger import add_costs, add_tokens
from ribao.masking import mask_keys
from ribao.runs.backend import RUNS_FILE, is_postgres, shown, sqlalchemy_url
from ribao.runs.call_rows import insert_calls, next_seq, scrubbed_json, scrubbed_text
from ribao.runs.migrations import RunLogError, upgrade
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
from ribao.runs.schema import deliveries as deliveries_table
from ribao.runs.schema import llm_calls, node_events, runs

if TYPE_CHECKING:
    from ribao.calls import LLMCall
    from ribao.llm.config import ModelConfig
    from ribao.settings import Settings

FILENAME = RUNS_FILE
BUSY_TIMEOUT_MS = 10_000
CONNECT_TIMEOUT_S = 5


def sqlite_engine(path: Path) -> Engine:
    """Return an engine on the SQLite file `path`: WAL, foreign keys, and ``BEGIN IMMEDIATE`` for
    writes (connections marked ``ribao_write``), so two writers queue instead of failing midway."""
    engine = sa.create_engine(
        f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi: Any, _record: Any) -> None:
        dbapi.isolation_level = None  # transactions are begun below, not by the driver
        dbapi.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _use_wal(dbapi)
        # With WAL, NORMAL loses nothing on a process crash and at most the last commits on a power cut.
        dbapi.execute("PRAGMA synchronous = NORMAL")
        dbapi.execute("PRAGMA foreign_keys = ON")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql(
            "BEGIN IMMEDIATE" if conn.get_execution_options().get("ribao_write") else "BEGIN"
        )

    return engine


def _is_locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


def _use_wal(dbapi: sqlite3.Connection) -> None:
    """Put the file in WAL mode, once. Switching takes an exclusive lock and SQLite answers
    "database is locked" at once, without its busy handler, when another connection holds the file
    (two runs opening a new run log together): the switch is retried within the busy timeout."""
    if dbapi.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        return
    for attempt in tenacity.Retrying(
        retry=tenacity.retry_if_exception(_is_locked),
        stop=tenacity.stop_after_delay(BUSY_TIMEOUT_MS / 1000),
        wait=tenacity.wait_random(0.01, 0.1),
        reraise=True,
    ):
        with attempt:
            dbapi.execute("PRAGMA journal_mode = WAL")


def open_engine(home: Path, url: str | None) -> tuple[Engine, Path | str]:
    """Return the run log's engine and how to name it: Postgres at `url`, else `<home>/runs.sqlite`."""
    if url is None:
        home.mkdir(parents=True, exist_ok=True)
        return sqlite_engine(home / FILENAME), home / FILENAME
    if not is_postgres(url):
        raise StoreUnreachable(f"store.url must be a postgresql:// URL, not {url!r}")
    engine = sa.create_engine(sqlalchemy_url(url), connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    return engine, shown(url)


def open_current(home: Path, url: str | None) -> tuple[Engine, Path | str]:
    """Return `open_engine`'s engine and name, the database migrated to this ribao's schema.

    Raises `RunLogError` when the file is not a SQLite database or is from a newer ribao, and
    `StoreUnreachable` when the Postgres database cannot be reached.
    """
    engine, path = open_engine(home, url)
    try:
        upgrade(engine)
    except sa.exc.OperationalError as exc:
        engine.dispose()
        if url is not None:
            reason = " ".join(str(exc.orig).split())
            raise StoreUnreachable(f"cannot reach the database {path}: {reason}") from exc
        raise RunLogError(f"cannot use the run log {path}: {exc.orig}") from exc
    except sa.exc.DatabaseError as exc:
        engine.dispose()
        raise RunLogError(f"cannot use the run log {path}: {exc.orig}") from exc
    except BaseException:
        engine.dispose()
        raise
    return engine, path


class RunLog:
    """Read and write the run log; safe beside other processes (and, on Postgres, other machines).

    Every text written (settings, messages, replies, errors, node data) is scrubbed of the values
    of secret env vars (see `redact.known_secrets`) and of credential-looking strings first.
    """

    def __init__(self, engine: Engine, path: Path | str, secrets: Iterable[str] = ()) -> None:
        self.engine = engine
        self.path = path
        self.secrets = set(secrets)
        self._lock = threading.Lock()
        self._upsert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    @classmethod
    def open(cls, home: Path, *, url: str | None = None, secrets: Iterable[str] | None = None) -> RunLog:
        """Open (creating and migrating) `<home>/runs.sqlite`, or the Postgres database at `url`;
        `secrets` default: `known_secrets()`.

        Raises `RunLogError` when the file is not a SQLite database or is from a newer ribao, and
        `StoreUnreachable` when the Postgres database cannot be reached.
        """
        engine, path = open_current(home, url)
        return cls(engine, path, known_secrets() if secrets is None else secrets)

    def close(self) -> None:
        """Close every connection."""
        self.engine.dispose()

    def __enter__(self) -> RunLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _json(self, value: Any) -> str | None:
        return scrubbed_json(value, self.secrets)

    def _text(self, value: str | None) -> str | None:
        return scrubbed_text(value, self.secrets)

    @contextmanager
    def _writing(self, run_id: str) -> Iterator[Connection]:
        """Yield a connection in one write transaction; a missing run (foreign key) is `RunNotFound`."""
        with self._lock, self.engine.connect() as conn:
            conn.execution_options(ribao_write=True)
            try:
                with conn.begin():
                    yield conn
            except sa.exc.IntegrityError as exc:
                raise RunNotFound(
                    f"cannot record run {run_id} in {self.path} ({exc.orig}): start_run first"
                ) from exc

    def _rows(self, query: Any) -> list[Any]:
        """Return the rows of a read query, each as a mapping."""
        with self.engine.connect() as conn:
            return [r._mapping for r in conn.execute(query)]

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
        ins = self._upsert(runs).values(
            run_id=run_id, status="running", started_at=iso_utc(), date=jsonable(date),
            categories=self._json(list(categories)), settings=self._json(data),
            prompts=self._json(dict(prompts or {})), pid=os.getpid(), host=socket.gethostname(),
        )  # fmt: skip
        with self._writing(run_id) as conn:
            conn.execute(
                ins.on_conflict_do_update(
                    index_elements=[runs.c.run_id],
                    set_={
                        "status": "running",
                        "finished_at": None,
                        "error": None,
                        "date": func.coalesce(ins.excluded.date, runs.c.date),
                        "categories": ins.excluded.categories,
                        "settings": ins.excluded.settings,
                        "pid": ins.excluded.pid,
                        "host": ins.excluded.host,
                    },
                )  # fmt: skip
            )

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
        with self._writing(run_id) as conn:
            conn.execute(
                node_events.insert().values(
                    run_id=run_id,
                    seq=next_seq(node_events, run_id),
                    node=node,
                    task_id=task_id,
                    started_at=iso_utc(started_at) if started_at else None,
                    finished_at=iso_utc(finished_at),
                    duration_s=seconds,
                    inputs=self._json(inputs),
                    outputs=self._json(outputs),
                    summary=self._text(summary),
                    error=self._text(error),
                )  # fmt: skip
            )

    def record_calls(
        self,
        run_id: str,
        node: str,
        calls: Sequence[LLMCall],
        *,
        task_id: str | None = None,
    ) -> None:
        """Record `calls` (in order) made by one task of `node`, each with the cost it was priced at."""
        with self._writing(run_id) as conn:
            insert_calls(conn, run_id, node, calls, task_id=task_id, secrets=self.secrets)

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
        values = {
            "status": status, "finished_at": iso_utc(), "date": func.coalesce(jsonable(date), runs.c.date),
            "digest_path": jsonable(digest_path), "json_path": jsonable(json_path),
            "error": self._text(error), "cost": cost, "currency": currency,
            "input_tokens": usage.get("input_tokens", 0), "output_tokens": usage.get("output_tokens", 0),
            "cached_tokens": usage.get("cached_tokens", 0),
        }  # fmt: skip
        # A resumed run reports only what its own part saw: the picks, critic rounds and prompt
        # files recorded before the resume stay unless it brings new ones.
        if picks:
            values["picks"] = self._json(list(picks))
        if critiques:
            values["critiques"] = self._json(list(critiques))
        with self._writing(run_id) as conn:
            recorded = conn.execute(select(runs.c.prompts).where(runs.c.run_id == run_id)).scalar()
            if prompts is not None:
                values["prompts"] = self._json({**json.loads(recorded or "{}"), **prompts})
            changed = conn.execute(runs.update().where(runs.c.run_id == run_id).values(values)).rowcount
        if not changed:
            raise RunNotFound(f"cannot finish run {run_id}: it is not in {self.path} (start_run first)")

    def record_deliveries(self, run_id: str, deliveries: Sequence[Any]) -> None:
        """Record one row per push channel (`DeliveryRecord`s or their dicts) of a run or a re-send."""
        rows = [d if isinstance(d, Mapping) else d.model_dump() for d in deliveries]
        if not rows:
            return
        with self._writing(run_id) as conn:
            conn.execute(
                deliveries_table.insert(),
                [{"run_id": run_id, "channel": d["channel"], "scheme": d["scheme"], "format": d["format"],
                  "status": d["status"], "parts": d["parts"], "bytes": d["bytes"], "cut": d["cut"],
                  "attempts": d["attempts"], "error": self._text(d.get("error")), "created_at": iso_utc()}
                 for d in rows],
            )  # fmt: skip

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
