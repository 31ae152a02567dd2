"""event webhooks: the endpoints an admin registers and the deliveries of events to them

Revision ID: 0018
Revises: 0017

``event_endpoints`` holds each endpoint's URL, description, subscribed events (empty for every
event), Standard Webhooks secret (and the previous one for a day after a rotation), who added it
and when, and whether and why it is disabled. ``event_deliveries`` holds one row per event and
endpoint: the body as sent, its message id, state (pending, sent, failed), attempts, next due
time, the endpoint's last answer, when it finished, and the row it replays, if any.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.database.types

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("events", sa.String(length=400), nullable=True),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("previous_secret", sa.String(length=64), nullable=True),
        sa.Column("previous_secret_until", app.database.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", app.database.types.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("disabled_at", app.database.types.UTCDateTime(), nullable=True),
        sa.Column("disabled_reason", sa.String(length=200), nullable=True),
        sa.Column("failing_since", app.database.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["members.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("url"),
    )
    op.create_table(
        "event_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", app.database.types.UTCDateTime(), nullable=False),
        sa.Column("last_status", sa.SmallInteger(), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", app.database.types.UTCDateTime(), nullable=False),
        sa.Column("sent_at", app.database.types.UTCDateTime(), nullable=True),
        sa.Column("finished_at", app.database.types.UTCDateTime(), nullable=True),
        sa.Column("replay_of", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'sent', 'failed')", name=op.f("ck_event_deliveries_state")
        ),
        sa.ForeignKeyConstraint(["endpoint_id"], ["event_endpoints.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["replay_of"], ["event_deliveries.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_event_deliveries_due", "event_deliveries", ["state", "next_attempt_at"])
    op.create_index("ix_event_deliveries_endpoint", "event_deliveries", ["endpoint_id", "id"])
    op.create_index("ix_event_deliveries_member", "event_deliveries", ["member_id"])
    op.create_index("ix_event_deliveries_finished", "event_deliveries", ["finished_at"])


def downgrade() -> None:
    op.drop_index("ix_event_deliveries_finished", table_name="event_deliveries")
    op.drop_index("ix_event_deliveries_member", table_name="event_deliveries")
    op.drop_index("ix_event_deliveries_endpoint", table_name="event_deliveries")
    op.drop_index("ix_event_deliveries_due", table_name="event_deliveries")
    op.drop_table("event_deliveries")
    op.drop_table("event_endpoints")
