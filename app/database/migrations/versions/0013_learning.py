"""learning: campaigns narrowed by what members told us and read, digests with per-member
picks, the one "still want this?" message after a pause, corrected survey answers

Revision ID: 0013
Revises: 0012

``campaigns.audience_filter`` holds a campaign's targeting expression; ``campaigns.digest``
marks a campaign whose message is assembled per member from ``digest_picks``;
``scope_pauses.asked_at`` is when a member paused by silence was asked once whether they
still want the scope; ``survey_responses.corrected_at`` is when a member last corrected
their answers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.database.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    moment = app.database.types.UTCDateTime
    op.add_column("campaigns", sa.Column("audience_filter", sa.Text(), nullable=True))
    op.add_column(
        "campaigns", sa.Column("digest", sa.Boolean(), server_default="0", nullable=False)
    )
    op.create_table(
        "digest_picks",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("post", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "member_id", "position"),
    )
    op.create_index("ix_digest_picks_member", "digest_picks", ["member_id", "campaign_id"])
    op.add_column("scope_pauses", sa.Column("asked_at", moment(), nullable=True))
    op.add_column("survey_responses", sa.Column("corrected_at", moment(), nullable=True))


def downgrade() -> None:
    op.drop_column("survey_responses", "corrected_at")
    op.drop_column("scope_pauses", "asked_at")
    op.drop_index("ix_digest_picks_member", table_name="digest_picks")
    op.drop_table("digest_picks")
    op.drop_column("campaigns", "digest")
    op.drop_column("campaigns", "audience_filter")
