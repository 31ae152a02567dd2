"""test sends: a campaign sent as a test to the marketer who asked, outside the funnel

Revision ID: 0015
Revises: 0014

``test_sends`` holds each test of a campaign that a marketer sent to themselves (by email and
to their inbox, marked TEST): the title and body as sent, when, and whether the inbox copy was
read. It is not a delivery, so nothing that counts deliveries (results, metrics, learning,
cadence) sees it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.database.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "test_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("sent_at", app.database.types.UTCDateTime(), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=True),
        sa.Column("read_at", app.database.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_test_sends_member", "test_sends", ["member_id", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_test_sends_member", table_name="test_sends")
    op.drop_table("test_sends")
