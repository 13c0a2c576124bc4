"""The run log as the hand-kept SQLite migrations m001-m005 left it; creates only what is missing, so a
home's existing run log (any of those migrations applied) is upgraded in place.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The names the hand-kept migrations recorded in `_migrations`, and the one an older ribao is shown.
LEGACY = ("m001_runs_and_calls", "m002_node_events", "m003_indexes", "m004_run_owner", "m005_deliveries")
MARKER = "m006_alembic"


def _tokens() -> list[sa.Column]:
    return [sa.Column(n, sa.Integer, nullable=False, server_default="0")
            for n in ("input_tokens", "output_tokens", "cached_tokens")]  # fmt: skip


def _run_id() -> sa.Column:
    return sa.Column("run_id", sa.Text, sa.ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False)


def _tables() -> dict[str, list[Any]]:
    return {
        "runs": [
            sa.Column("run_id", sa.Text, primary_key=True),
            sa.Column("status", sa.Text, nullable=False),
            sa.Column("started_at", sa.Text, nullable=False),
            sa.Column("finished_at", sa.Text),
            sa.Column("date", sa.Text),
            sa.Column("categories", sa.Text, nullable=False, server_default="[]"),
            sa.Column("settings", sa.Text, nullable=False, server_default="{}"),
            sa.Column("prompts", sa.Text, nullable=False, server_default="{}"),
            *_tokens(),
            sa.Column("cost", sa.Float),
            sa.Column("currency", sa.Text),
            sa.Column("digest_path", sa.Text),
            sa.Column("json_path", sa.Text),
            sa.Column("error", sa.Text),
            sa.Column("picks", sa.Text, nullable=False, server_default="[]"),
            sa.Column("critiques", sa.Text, nullable=False, server_default="[]"),
            sa.Column("pid", sa.Integer),
            sa.Column("host", sa.Text),
        ],
        "llm_calls": [
            sa.Column("id", sa.Integer, primary_key=True),
            _run_id(),
            sa.Column("seq", sa.Integer, nullable=False),
            sa.Column("node", sa.Text, nullable=False),
            sa.Column("task_id", sa.Text),
            sa.Column("agent", sa.Text, nullable=False),
            sa.Column("model", sa.Text, nullable=False),
            sa.Column("task", sa.Text, nullable=False),
            sa.Column("messages", sa.Text, nullable=False),
            sa.Column("raw", sa.Text, nullable=False),
            sa.Column("parsed", sa.Text),
            *_tokens(),
            sa.Column("latency_s", sa.Float, nullable=False, server_default="0"),
            sa.Column("cost", sa.Float),
            sa.Column("currency", sa.Text),
            sa.Column("error", sa.Text),
            sa.Column("created_at", sa.Text, nullable=False),
            sa.UniqueConstraint("run_id", "seq"),
        ],
        "node_events": [
            sa.Column("id", sa.Integer, primary_key=True),
            _run_id(),
            sa.Column("seq", sa.Integer, nullable=False),
            sa.Column("node", sa.Text, nullable=False),
            sa.Column("task_id", sa.Text),
            sa.Column("started_at", sa.Text),
            sa.Column("finished_at", sa.Text, nullable=False),
            sa.Column("duration_s", sa.Float),
            sa.Column("inputs", sa.Text),
            sa.Column("outputs", sa.Text),
            sa.Column("summary", sa.Text),
            sa.Column("error", sa.Text),
            sa.UniqueConstraint("run_id", "seq"),
        ],
        "deliveries": [
            sa.Column("id", sa.Integer, primary_key=True),
            _run_id(),
            sa.Column("channel", sa.Text, nullable=False),
            sa.Column("scheme", sa.Text, nullable=False),
            sa.Column("format", sa.Text, nullable=False),
            sa.Column("status", sa.Text, nullable=False),
            sa.Column("parts", sa.Integer, nullable=False, server_default="1"),
            sa.Column("bytes", sa.Integer, nullable=False, server_default="0"),
            sa.Column("cut", sa.Integer, nullable=False, server_default="0"),
            sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
            sa.Column("error", sa.Text),
            sa.Column("created_at", sa.Text, nullable=False),
        ],
    }


INDEXES = {
    "runs_started": ("runs", ["started_at"]),
    "runs_status": ("runs", ["status", "started_at"]),
    "llm_calls_run_agent": ("llm_calls", ["run_id", "agent"]),
    "node_events_run": ("node_events", ["run_id", "seq"]),
    "deliveries_run": ("deliveries", ["run_id", "id"]),
}


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    present = set(inspector.get_table_names())
    for name, items in _tables().items():
        if name not in present:
            op.create_table(name, *items)
    if "runs" in present:  # a run log from before m004 has no owner columns
        have = {c["name"] for c in inspector.get_columns("runs")}
        for column in ("pid", "host"):
            if column not in have:
                op.add_column("runs", sa.Column(column, sa.Integer if column == "pid" else sa.Text))
    indexes = {i["name"] for t in present for i in inspector.get_indexes(t)}
    for name, (table, columns) in INDEXES.items():
        if name not in indexes:
            op.create_index(name, table, columns)
    if bind.dialect.name == "sqlite":
        _mark_for_older_ribao(present)


def _mark_for_older_ribao(present: set[str]) -> None:
    """Record every hand-kept migration plus `MARKER`, so an older ribao refuses this run log in one
    line ("written by a newer ribao") instead of failing on tables it would create again."""
    if "_migrations" not in present:
        op.create_table("_migrations", sa.Column("name", sa.Text, primary_key=True),
                        sa.Column("applied_at", sa.Text, nullable=False))  # fmt: skip
    table = sa.table("_migrations", sa.column("name"), sa.column("applied_at"))
    done = {r[0] for r in op.get_bind().execute(sa.select(table.c.name))}
    now = sa.func.strftime("%Y-%m-%dT%H:%M:%S+00:00", "now")
    for name in [*LEGACY, MARKER]:
        if name not in done:
            op.get_bind().execute(table.insert().values(name=name, applied_at=now))
