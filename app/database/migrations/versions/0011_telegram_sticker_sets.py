"""telegram: the sticker sets the bot made for members, and which sticker is which

Revision ID: 0011
Revises: 0010

``telegram_sticker_sets`` is one row per member and pack (the set's name and its owner);
``telegram_set_stickers`` maps each pack sticker's fingerprint to the ``file_unique_id`` of its
sticker in the set, so a rebuilt pack updates the set instead of making a new one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.database.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telegram_sticker_sets",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("pack", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", app.database.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", app.database.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("member_id", "pack"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "telegram_set_stickers",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("pack", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("file_unique_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id", "pack"],
            ["telegram_sticker_sets.member_id", "telegram_sticker_sets.pack"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "pack", "fingerprint"),
    )


def downgrade() -> None:
    op.drop_table("telegram_set_stickers")
    op.drop_table("telegram_sticker_sets")
