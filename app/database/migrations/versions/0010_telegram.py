"""telegram: members' linked chats, one-time link tokens, updates handled

Revision ID: 0010
Revises: 0009

``telegram_chats`` is where the ``telegram`` channel sends (one chat per member, one member per
chat); ``telegram_link_tokens`` keeps the SHA-256 of each one-time link from the permissions page
to the bot; ``telegram_updates`` the ids of the Bot API updates already handled.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.database.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telegram_chats",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("linked_at", app.database.types.UTCDateTime(), nullable=False),
        sa.Column("blocked_at", app.database.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("member_id"),
        sa.UniqueConstraint("chat_id"),
    )
    op.create_table(
        "telegram_link_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("created_at", app.database.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", app.database.types.UTCDateTime(), nullable=False),
        sa.Column("used_at", app.database.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_telegram_link_tokens_member", "telegram_link_tokens", ["member_id"])
    op.create_table(
        "telegram_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("handled_at", app.database.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("update_id"),
    )


def downgrade() -> None:
    op.drop_table("telegram_updates")
    op.drop_index("ix_telegram_link_tokens_member", table_name="telegram_link_tokens")
    op.drop_table("telegram_link_tokens")
    op.drop_table("telegram_chats")
