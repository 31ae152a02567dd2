"""answer notices: the system message telling a member the team answered their reply

Revision ID: 0016
Revises: 0015

``answer_notices`` holds one row per answer of the team to a member's reply: the short message
that tells the member (by email by default, or where they wrote from), its state, attempts and
next due time, so the worker retries it through an SMTP outage and never sends it twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.database.types

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answer_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reply_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", app.database.types.UTCDateTime(), nullable=False),
        sa.Column("created_at", app.database.types.UTCDateTime(), nullable=False),
        sa.Column("sent_at", app.database.types.UTCDateTime(), nullable=True),
        sa.Column("message_id", sa.String(length=200), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["reply_id"], ["replies.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reply_id"),
    )
    op.create_index("ix_answer_notices_due", "answer_notices", ["state", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_answer_notices_due", table_name="answer_notices")
    op.drop_table("answer_notices")
