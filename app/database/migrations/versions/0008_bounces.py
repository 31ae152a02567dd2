"""notifier: bounces and complaints that come back about a delivery

Revision ID: 0008
Revises: 0007

- ``deliveries.bounced_at`` and ``deliveries.bounce``: when the latest (strongest) bounce or
  complaint about the delivery came back, and what it said (``5.1.1 user unknown``).
- ``bounces``: one row per (delivery, kind), so the same report twice counts once; soft bounces
  are counted per address.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.database.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("bounced_at", app.database.types.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("bounce", sa.String(length=120), nullable=True))

    op.create_table(
        "bounces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("address_key", sa.String(length=254), nullable=False),
        sa.Column("summary", sa.String(length=120), nullable=False),
        sa.Column("at", app.database.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('hard', 'soft', 'complaint')", name=op.f("ck_bounces_kind")),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_bounces_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounces")),
        sa.UniqueConstraint("delivery_id", "kind", name=op.f("uq_bounces_delivery_id_kind")),
    )
    with op.batch_alter_table("bounces", schema=None) as batch_op:
        batch_op.create_index("ix_bounces_address", ["address_key", "kind", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bounces", schema=None) as batch_op:
        batch_op.drop_index("ix_bounces_address")

    op.drop_table("bounces")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("bounce")
        batch_op.drop_column("bounced_at")
