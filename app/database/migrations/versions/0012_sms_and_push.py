"""sms and push: proven phone numbers, one-time codes, browsers' push subscriptions, the SMS
log and short links; what a member typed with a keyword; flagged replies

Revision ID: 0012
Revises: 0011

``phone_numbers`` is where the ``sms`` channel sends (one proven number per member, one member
per number); ``phone_proofs`` holds the keyed hash of the code last texted to prove one, and
``phone_codes_sent`` every code sent, for the limits. ``push_subscriptions`` is where the
``push`` channel sends (one row per browser). ``sms_messages`` logs texts in and system texts
out; ``short_links`` are the short tracked links of campaign texts. ``consent_events.typed``
keeps the keyword a member texted, exactly; ``replies.flag`` marks a reply that reads like a
request to stop; ``deliveries.delivered_at`` is when the SMS centre said a text reached the
phone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.database.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    moment = app.database.types.UTCDateTime
    op.create_table(
        "phone_numbers",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("verified_at", moment(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("member_id"),
        sa.UniqueConstraint("number"),
    )
    op.create_table(
        "phone_proofs",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("sent_at", moment(), nullable=False),
        sa.Column("expires_at", moment(), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("member_id"),
    )
    op.create_table(
        "phone_codes_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("client_key", sa.String(length=64), nullable=False),
        sa.Column("sent_at", moment(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_phone_codes_sent_number", "phone_codes_sent", ["number", "sent_at"])
    op.create_index("ix_phone_codes_sent_member", "phone_codes_sent", ["member_id", "sent_at"])
    op.create_index("ix_phone_codes_sent_client", "phone_codes_sent", ["client_key", "sent_at"])
    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("endpoint", sa.String(length=1000), nullable=False),
        sa.Column("p256dh", sa.String(length=128), nullable=False),
        sa.Column("auth", sa.String(length=64), nullable=False),
        sa.Column("browser", sa.String(length=120), nullable=False),
        sa.Column("created_at", moment(), nullable=False),
        sa.Column("disabled_at", moment(), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("endpoint"),
    )
    op.create_index("ix_push_subscriptions_member", "push_subscriptions", ["member_id"])
    op.create_table(
        "sms_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("keyword", sa.String(length=16), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("gateway_id", sa.String(length=64), nullable=True),
        sa.Column("at", moment(), nullable=False),
        sa.Column("updated_at", moment(), nullable=False),
        sa.CheckConstraint("direction IN ('in', 'out')", name="direction"),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("gateway_id"),
    )
    op.create_index("ix_sms_messages_number", "sms_messages", ["number", "at"])
    op.create_index("ix_sms_messages_member", "sms_messages", ["member_id", "at"])
    op.create_index("ix_sms_messages_state", "sms_messages", ["direction", "state", "at"])
    op.create_table(
        "short_links",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("created_at", moment(), nullable=False),
        sa.ForeignKeyConstraint(["delivery_id"], ["deliveries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index("ix_short_links_delivery", "short_links", ["delivery_id"])
    # Plain ALTER TABLE on both databases: a batch copy would drop the ledger's triggers.
    op.add_column("consent_events", sa.Column("typed", sa.Text(), nullable=True))
    op.add_column("replies", sa.Column("flag", sa.String(length=32), nullable=True))
    op.add_column("deliveries", sa.Column("delivered_at", moment(), nullable=True))


def downgrade() -> None:
    op.drop_column("deliveries", "delivered_at")
    op.drop_column("replies", "flag")
    op.drop_column("consent_events", "typed")
    op.drop_index("ix_short_links_delivery", table_name="short_links")
    op.drop_table("short_links")
    for name in ("ix_sms_messages_state", "ix_sms_messages_member", "ix_sms_messages_number"):
        op.drop_index(name, table_name="sms_messages")
    op.drop_table("sms_messages")
    op.drop_index("ix_push_subscriptions_member", table_name="push_subscriptions")
    op.drop_table("push_subscriptions")
    for name in (
        "ix_phone_codes_sent_client",
        "ix_phone_codes_sent_member",
        "ix_phone_codes_sent_number",
    ):
        op.drop_index(name, table_name="phone_codes_sent")
    op.drop_table("phone_codes_sent")
    op.drop_table("phone_proofs")
    op.drop_table("phone_numbers")
