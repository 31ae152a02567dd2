"""member exports: who downloaded the member export, when, how

Revision ID: 0020
Revises: 0019

``member_exports`` records each download of the member export (every member's personal data and
the whole consent ledger): when, its format, whether from the admin screen or the command line,
and who asked (the member, kept as the address they had; the command line, as the system user).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.database.types

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("by_member_id", sa.Integer(), nullable=True),
        sa.Column("by", sa.String(length=254), nullable=False),
        sa.Column("at", app.database.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["by_member_id"], ["members.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_member_exports_at", "member_exports", ["at"])


def downgrade() -> None:
    op.drop_index("ix_member_exports_at", table_name="member_exports")
    op.drop_table("member_exports")
