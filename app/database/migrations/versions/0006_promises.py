"""promises the machine keeps: consent words, campaign promises, notices, no campaign ungated

Revision ID: 0006
Revises: 0005

- ``consent_states.wording_hash``: the SHA-256 of the words of the state's event, filled from
  the ledger, so the gate can tell a grant to other words (another cadence) from a current one.
- ``campaigns.promise_hash``: the scope's promise when the campaign was last saved.
- ``notice_reads``: which member opened which notice of ``content/notices/`` (notices are shown
  on the site and in the inbox, never pushed).
- Campaigns of the old ``transactional`` kind that were not sent become drafts of their scope's
  kind (``promotional`` when the scope is unknown); those sent or sending keep their history and
  their kind, shown as sent outside the gate, and whatever of them still waits is gated.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.database.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _scope_kinds() -> dict[str, str]:
    """The kind of every scope of the running app's content, when there is an app."""
    from flask import has_app_context

    if not has_app_context():
        return {}
    from app.consent.scopes import all_scopes

    try:
        return {slug: scope.kind for slug, scope in all_scopes().items()}
    except Exception:  # a migration must not depend on the content being valid
        return {}


def upgrade() -> None:
    op.add_column(
        "consent_states",
        sa.Column("wording_hash", sa.String(length=64), server_default="", nullable=False),
    )
    op.execute(
        "UPDATE consent_states SET wording_hash = (SELECT e.wording_hash FROM "
        "consent_events e WHERE e.id = consent_states.event_id)"
    )
    op.add_column("campaigns", sa.Column("promise_hash", sa.String(length=64), nullable=True))
    op.create_table(
        "notice_reads",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("read_at", app.database.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_notice_reads_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "slug", name=op.f("pk_notice_reads")),
    )

    campaigns = sa.table(
        "campaigns",
        sa.column("id", sa.Integer()),
        sa.column("scope", sa.String()),
        sa.column("kind", sa.String()),
        sa.column("state", sa.String()),
        sa.column("send_at", sa.DateTime()),
    )
    connection = op.get_bind()
    kinds = _scope_kinds()
    unsent = connection.execute(
        sa.select(campaigns.c.id, campaigns.c.scope).where(
            campaigns.c.kind == "transactional", campaigns.c.state.in_(("draft", "scheduled"))
        )
    ).all()
    for campaign_id, scope in unsent:
        connection.execute(
            campaigns.update()
            .where(campaigns.c.id == campaign_id)
            .values(kind=kinds.get(scope, "promotional"), state="draft", send_at=None)
        )


def downgrade() -> None:
    op.drop_table("notice_reads")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("promise_hash")
    op.drop_column("consent_states", "wording_hash")
