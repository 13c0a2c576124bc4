"""The run log's one schema definition (SQLAlchemy Core), the same for SQLite and Postgres.

Times are ISO 8601 text in UTC and JSON columns are text, as the first SQLite run logs stored them,
so a home's run log upgrades in place and copies to Postgres unchanged. A change here is also a new
Alembic revision in `ribao/runs/alembic/versions/`.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()


def _run_id() -> Column[str]:
    return Column("run_id", Text, ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False)


def _tokens() -> list[Column[int]]:
    return [Column(name, Integer, nullable=False, server_default="0")
            for name in ("input_tokens", "output_tokens", "cached_tokens")]  # fmt: skip


runs = Table(
    "runs",
    metadata,
    Column("run_id", Text, primary_key=True),  # ULID, also the LangGraph thread id
    Column("status", Text, nullable=False),  # see rows.STATUSES
    Column("started_at", Text, nullable=False),
    Column("finished_at", Text),
    Column("date", Text),  # announcement day YYYY-MM-DD (requested, then actual)
    Column("categories", Text, nullable=False, server_default="[]"),
    Column("settings", Text, nullable=False, server_default="{}"),  # effective settings, secrets masked
    Column("prompts", Text, nullable=False, server_default="{}"),  # file -> {source, path, sha256}
    *_tokens(),
    Column("cost", Float),  # NULL: unknown (a price was missing)
    Column("currency", Text),
    Column("digest_path", Text),
    Column("json_path", Text),
    Column("error", Text),
    Column("picks", Text, nullable=False, server_default="[]"),
    Column("critiques", Text, nullable=False, server_default="[]"),
    Column("pid", Integer),  # the process that runs it, to tell a dead run
    Column("host", Text),  # the machine of that process
    Index("runs_started", "started_at"),
    Index("runs_status", "status", "started_at"),
)

llm_calls = Table(
    "llm_calls",
    metadata,
    Column("id", Integer, primary_key=True),
    _run_id(),
    Column("seq", Integer, nullable=False),  # order of recording within the run, from 1
    Column("node", Text, nullable=False),
    Column("task_id", Text),  # the LangGraph task that made the call
    Column("agent", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("task", Text, nullable=False),
    Column("messages", Text, nullable=False),  # JSON [{role, content}]
    Column("raw", Text, nullable=False),
    Column("parsed", Text),  # JSON or NULL
    *_tokens(),
    Column("latency_s", Float, nullable=False, server_default="0"),
    Column("cost", Float),
    Column("currency", Text),
    Column("error", Text),
    Column("created_at", Text, nullable=False),
    UniqueConstraint("run_id", "seq"),
    Index("llm_calls_run_agent", "run_id", "agent"),
)

node_events = Table(
    "node_events",
    metadata,
    Column("id", Integer, primary_key=True),
    _run_id(),
    Column("seq", Integer, nullable=False),
    Column("node", Text, nullable=False),
    Column("task_id", Text),
    Column("started_at", Text),
    Column("finished_at", Text, nullable=False),
    Column("duration_s", Float),
    Column("inputs", Text),  # JSON summary of what the node read
    Column("outputs", Text),  # JSON of what it wrote (LLM calls counted, not copied)
    Column("summary", Text),  # the live trace's one-line description
    Column("error", Text),
    UniqueConstraint("run_id", "seq"),
    Index("node_events_run", "run_id", "seq"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    _run_id(),
    Column("channel", Text, nullable=False),  # the [[push]] name
    Column("scheme", Text, nullable=False),  # Apprise scheme (schan, feishu, mailto, json ...)
    Column("format", Text, nullable=False),  # markdown | card | text | html
    Column("status", Text, nullable=False),  # ok | failed
    Column("parts", Integer, nullable=False, server_default="1"),
    Column("bytes", Integer, nullable=False, server_default="0"),  # UTF-8 bytes sent, over all parts
    Column("cut", Integer, nullable=False, server_default="0"),  # rows left out to fit the channel
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("error", Text),  # secrets masked
    Column("created_at", Text, nullable=False),
    Index("deliveries_run", "run_id", "id"),
)

# A reader's feedback (`ribao.profiles.feedback`): events, the newest per (profile, paper) its verdict.
# Not part of a run, so copied by its own rule (`ribao.runs.copy.copy_feedback`), not with `TABLES`.
feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("profile", String(64), nullable=False),
    Column("verb", String(16), nullable=False),  # like | dislike | not-interested
    Column("arxiv_id", String(64), nullable=False),  # canonical, no version
    Column("title", Text),
    Column("abstract", Text),
    Column("at", String(32), nullable=False),  # ISO 8601, UTC
    Column("origin", String(16), nullable=False),  # cli | file
    Index("feedback_profile", "profile", "id"),
)

shared_work = Table(
    "shared_work",
    metadata,
    Column("scope", Text, primary_key=True),  # who shares: a day run's id, or a day + a batch of queue jobs
    Column("kind", Text, primary_key=True),  # triage | rubric | summary
    Column("key", Text, primary_key=True),  # sha256 of the model and the rendered per-paper request
    Column("value", Text),  # the answer, JSON; NULL while a run is paying for it (a claim)
    Column("owner", Text),  # the run id that claimed it (NULL once answered)
    Column("lease_until", Float),  # epoch seconds: a claim not renewed by then is taken over
    Column("created_at", Text, nullable=False),
)

#: The run log's tables of runs (shared work is copied by its own rule, `ribao.runs.copy.copy_shared_work`).
#: Child tables first: the order to empty, and reversed the order to fill, a copy.
TABLES = (runs, llm_calls, node_events, deliveries)
