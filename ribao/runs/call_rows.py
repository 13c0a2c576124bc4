"""Write a run's LLM-call rows (the one way every writer does: the recorder, and shared work storing an
answer with the calls that paid for it, in the answer's transaction)."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from ribao.masking import scrub_value
from ribao.runs.rows import iso_utc, jsonable
from ribao.runs.schema import llm_calls

if TYPE_CHECKING:
    from ribao.calls import LLMCall

# The first key of the Postgres advisory lock a run's call rows are numbered under ("ribao calls").
CALLS_NS = 0x7263_616C


def scrubbed_json(value: Any, secrets: Iterable[str]) -> str | None:
    """Return `value` as JSON with `secrets` and credential-looking strings masked (None stays None)."""
    if value is None:
        return None
    return json.dumps(scrub_value(jsonable(value), secrets), ensure_ascii=False)


def scrubbed_text(value: str | None, secrets: Iterable[str]) -> str | None:
    """Return `value` with `secrets` and credential-looking strings masked (None stays None)."""
    return None if value is None else scrub_value(value, secrets)  # type: ignore[no-any-return]


def insert_calls(
    conn: Connection,
    run_id: str,
    node: str,
    calls: Sequence[LLMCall],
    *,
    task_id: str | None,
    secrets: Iterable[str],
) -> None:
    """Add `calls` (in order) made by one task of `node` to run `run_id`'s rows, in `conn`'s transaction."""
    if conn.dialect.name == "postgresql":
        # Each row's seq is the run's max + 1: two writers of one run (its recorder, its shared work)
        # must not read the same max. SQLite's write transactions are serial already.
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(:ns, :run)"),
            {"ns": CALLS_NS, "run": zlib.crc32(run_id.encode()) - 2**31},
        )
    secrets = set(secrets)
    for call in calls:
        conn.execute(
            llm_calls.insert().values(
                run_id=run_id,
                seq=next_seq(llm_calls, run_id),
                node=node,
                task_id=task_id,
                agent=call.agent,
                model=call.model,
                task=scrubbed_text(call.task, secrets),
                messages=scrubbed_json(call.messages, secrets),
                raw=scrubbed_text(call.raw, secrets),
                parsed=scrubbed_json(call.parsed, secrets),
                input_tokens=call.input_tokens,
                output_tokens=call.output_tokens,
                cached_tokens=call.cached_tokens,
                latency_s=call.latency_s,
                cost=call.cost,
                currency=call.currency,
                error=scrubbed_text(call.error, secrets),
                created_at=iso_utc(),
            )  # fmt: skip
        )


def next_seq(table: sa.Table, run_id: str) -> Any:
    """Return the subquery giving a run's next `seq` in `table` (1 for its first row)."""
    return (
        select(func.coalesce(func.max(table.c.seq), 0) + 1).where(table.c.run_id == run_id).scalar_subquery()
    )
