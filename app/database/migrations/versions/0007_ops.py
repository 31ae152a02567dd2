"""operator: one heartbeat row per notifier worker, read by /readyz and /metrics

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.database.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_beats",
        sa.Column("worker", sa.String(length=128), nullable=False),
        sa.Column("started_at", app.database.types.UTCDateTime(), nullable=False),
        sa.Column("beat_at", app.database.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("worker", name=op.f("pk_worker_beats")),
    )


def downgrade() -> None:
    op.drop_table("worker_beats")
