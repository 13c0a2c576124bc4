"""What the run log returns: one pydantic row per run, LLM call, node task and agent total."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field

from ribao.ledger import add_costs, add_tokens, total_cost


def iso_utc(value: dt.datetime | None = None) -> str:
    """Return `value` (default now; naive means UTC) as ISO 8601 in UTC with milliseconds."""
    value = value or dt.datetime.now(dt.UTC)
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat(timespec="milliseconds")


def decode(row: Any, *json_keys: str) -> dict[str, Any]:
    """Return a database row (`sqlite3.Row` or mapping) as a dict, the `json_keys` columns parsed."""
    data = dict(row)
    for key in json_keys:
        if data.get(key) is not None:
            data[key] = json.loads(data[key])
    return data


INTERRUPTED_NOTE = (
    "its process ended without recording an outcome (killed, e.g. kill -9, or the machine stopped)"
)


def process_gone(pid: int | None, host: str | None) -> bool:
    """Return True when ``pid`` on ``host`` is known to be dead: same host, and no such process.

    A run from another host, or recorded before pids were (None), is never called dead.
    """
    if pid is None or host != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by another user
        return False
    return False


RunStatus = Literal["running", "done", "failed", "no_announcement", "interrupted", "replay"]
STATUSES: tuple[str, ...] = get_args(RunStatus)


class RunRow(BaseModel):
    """One run: its status, day, effective settings, prompt files, totals, outputs and error.

    Times are UTC; tokens and cost are the run's totals (cost None = unknown, some price missing);
    `prompts` maps a prompt file (``agent/name.md.j2``) to ``{source, path, sha256}``; `picks` are
    ``{rank, tier, arxiv_id, title, reason, ...}`` and `critiques` the critic's rounds, as JSON.
    """

    run_id: str
    status: RunStatus
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    date: dt.date | None = Field(default=None, description="Announcement day")
    categories: list[str] = Field(default_factory=list)
    settings: dict[str, Any] = Field(default_factory=dict)
    prompts: dict[str, dict[str, Any]] = Field(default_factory=dict)
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost: float | None = None
    currency: str | None = None
    digest_path: str | None = None
    json_path: str | None = None
    error: str | None = None
    picks: list[dict[str, Any]] = Field(default_factory=list)
    critiques: list[dict[str, Any]] = Field(default_factory=list)
    pid: int | None = Field(default=None, description="Process id of the run's process, while running")
    host: str | None = Field(default=None, description="Host name of that process")

    @classmethod
    def from_db(cls, row: Any) -> RunRow:
        """Build a row from a `runs` table row; a ``running`` run whose process is gone is ``interrupted``."""
        run = cls(**decode(row, "categories", "settings", "prompts", "picks", "critiques"))
        if run.status == "running" and process_gone(run.pid, run.host):
            run = run.model_copy(update={"status": "interrupted", "error": run.error or INTERRUPTED_NOTE})
        return run

    @property
    def seconds(self) -> float | None:
        """Wall-clock duration in seconds, None while running."""
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens


class CallRow(BaseModel):
    """One LLM call on record: the prompt as sent, the reply as received, its tokens, latency and cost."""

    id: int
    run_id: str
    seq: int = Field(description="Recording order within the run, from 1")
    node: str
    task_id: str | None = None
    agent: str
    model: str
    task: str
    messages: list[dict[str, str]] = Field(description="[{role, content}] in the order sent")
    raw: str
    parsed: dict[str, Any] | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    latency_s: float = 0.0
    cost: float | None = None
    currency: str | None = None
    error: str | None = Field(default=None, description="Why ribao re-asked, or the failure")
    created_at: dt.datetime

    @classmethod
    def from_db(cls, row: Any) -> CallRow:
        """Build a row from an `llm_calls` table row."""
        return cls(**decode(row, "messages", "parsed"))


class NodeRow(BaseModel):
    """One node task of a run: when it ran, a summary of its inputs, its outputs, and its error."""

    id: int
    run_id: str
    seq: int
    node: str
    task_id: str | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime
    duration_s: float | None = None
    inputs: Any = None
    outputs: Any = None
    summary: str | None = Field(default=None, description="The live trace's one-line description")
    error: str | None = None

    @classmethod
    def from_db(cls, row: Any) -> NodeRow:
        """Build a row from a `node_events` table row."""
        return cls(**decode(row, "inputs", "outputs"))


class AgentUsage(BaseModel):
    """One agent's totals over a run's LLM calls; cost None when any call's price is unknown."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost: float | None = None
    currency: str | None = None


def usage_of(calls: Sequence[Any]) -> AgentUsage:
    """Return the totals of `calls` (`CallRow`s, or run-log rows read by key): calls and tokens summed,
    cost by `ribao.ledger.add_costs` (None when any call's price is unknown)."""

    def get(call: Any, name: str) -> Any:
        return call[name] if isinstance(call, Mapping) else getattr(call, name)

    tokens = add_tokens(calls)
    cost, currency = add_costs((get(c, "cost"), get(c, "currency")) for c in calls)
    return AgentUsage(
        calls=len(calls),
        input_tokens=tokens.input_tokens,
        output_tokens=tokens.output_tokens,
        cached_tokens=tokens.cached_tokens,
        cost=cost,
        currency=currency,
    )


def sum_usage(agents: Iterable[AgentUsage], currency: str | None = None) -> AgentUsage:
    """Return the total of per-agent usage: calls and tokens summed, cost by `ribao.ledger.total_cost`
    (None when any is unknown or the currencies differ; no agents cost 0 in `currency`)."""
    agents = list(agents)
    cost, cur = total_cost(agents, currency)
    tokens = add_tokens(agents)
    return AgentUsage(
        calls=sum(a.calls for a in agents),
        input_tokens=tokens.input_tokens,
        output_tokens=tokens.output_tokens,
        cached_tokens=tokens.cached_tokens,
        cost=cost,
        currency=cur or currency,
    )


def jsonable(value: Any) -> Any:
    """Return `value` as JSON-able data: pydantic models dumped, dates ISO strings, paths strings."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
