"""The run log: one row per run, LLM call and node task, in `<home>/runs.sqlite` (SQLite, WAL) or in
the Postgres database of `store.url` (SQLAlchemy Core over `ribao.runs.schema`)."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from ribao.errors import RunNotFound
from ribao.masking import mask_keys
from ribao.runs.call_rows import insert_calls, next_seq, scrubbed_json, scrubbed_text
from ribao.runs.engine import open_current
from ribao.runs.log_reads import RunLogReads
from ribao.runs.redact import known_secrets, safe_settings
from ribao.runs.rows import STATUSES, iso_utc, jsonable, sum_usage
from ribao.runs.schema import deliveries as deliveries_table
from ribao.runs.schema import node_events, runs

if TYPE_CHECKING:
    from ribao.calls import LLMCall
    from ribao.llm.config import ModelConfig
    from ribao.settings import Settings


class RunLog(RunLogReads):
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
