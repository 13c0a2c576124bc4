"""The readers' feedback table, until now created by `FeedbackStore` itself (in `feedback.sqlite` or in
the `[store] url` database); creates only what is missing, so such a Postgres table is kept as it is.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("feedback"):
        op.create_table(
            "feedback",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("profile", sa.String(64), nullable=False),
            sa.Column("verb", sa.String(16), nullable=False),
            sa.Column("arxiv_id", sa.String(64), nullable=False),
            sa.Column("title", sa.Text),
            sa.Column("abstract", sa.Text),
            sa.Column("at", sa.String(32), nullable=False),
            sa.Column("origin", sa.String(16), nullable=False),
        )
        present: set[str] = set()
    else:
        present = {str(i["name"]) for i in inspector.get_indexes("feedback")}
    if "feedback_profile" not in present:
        op.create_index("feedback_profile", "feedback", ["profile", "id"])
