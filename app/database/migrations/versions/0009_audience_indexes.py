"""consent: one index read gives every cap of the gate

Revision ID: 0009
Revises: 0008

``ix_contacts_member_recent`` (member, sent_at, scope, kind, campaign) replaces
``ix_contacts_member_sent``, which lacked the scope: the audience query and the campaign
preview count a member's campaigns of the last day (any scope), week and month (the scope's)
in one range read of that index, without visiting the table.
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contacts_member_recent",
            ["member_id", "sent_at", "scope", "kind", "campaign"],
            unique=False,
        )
        batch_op.drop_index("ix_contacts_member_sent")


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contacts_member_sent", ["member_id", "sent_at", "kind", "campaign"], unique=False
        )
        batch_op.drop_index("ix_contacts_member_recent")
