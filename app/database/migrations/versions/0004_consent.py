"""consent ledger, gate facts and subscriptions

The ledger (consent_events) is append-only: triggers make the database refuse any UPDATE or
DELETE of its rows, on SQLite and PostgreSQL alike. A later migration that rebuilds the table
(SQLite batch mode) must create the triggers again.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.database.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "confirmation_mails",
        sa.Column("email_key", sa.String(length=254), nullable=False),
        sa.Column("sent_at", app.database.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("email_key", name=op.f("pk_confirmation_mails")),
    )
    op.create_table(
        "subscription_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("email_key", sa.String(length=254), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("wording", sa.Text(), nullable=False),
        sa.Column("wording_version", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("page", sa.String(length=300), nullable=True),
        sa.Column("requested_at", app.database.types.UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", app.database.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_requests")),
        sa.UniqueConstraint(
            "email_key", "scope", name=op.f("uq_subscription_requests_email_key_scope")
        ),
    )
    op.create_table(
        "suppressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_key", sa.String(length=254), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("at", app.database.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppressions")),
        sa.UniqueConstraint("address_key", name=op.f("uq_suppressions_address_key")),
    )
    op.create_table(
        "consent_preferences",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("paused_until", app.database.types.UTCDateTime(), nullable=True),
        sa.Column("quiet_start", sa.SmallInteger(), nullable=True),
        sa.Column("quiet_end", sa.SmallInteger(), nullable=True),
        sa.Column("updated_at", app.database.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_consent_preferences_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_consent_preferences")),
    )
    op.create_table(
        "consent_subjects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("salt", sa.String(length=64), nullable=True),
        sa.Column("created_at", app.database.types.UTCDateTime(), nullable=False),
        sa.Column("pseudonymised_at", app.database.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_consent_subjects_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_subjects")),
        sa.UniqueConstraint("member_id", name=op.f("uq_consent_subjects_member_id")),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("campaign", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=128), nullable=False),
        sa.Column("sent_at", app.database.types.UTCDateTime(), nullable=False),
        sa.Column("engaged_at", app.database.types.UTCDateTime(), nullable=True),
        sa.Column("last_engaged_at", app.database.types.UTCDateTime(), nullable=True),
        sa.Column("engaged_how", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_contacts_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("ref", name=op.f("uq_contacts_ref")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contacts_member_campaign", ["member_id", "campaign"], unique=False
        )
        batch_op.create_index(
            "ix_contacts_member_scope",
            ["member_id", "scope", "sent_at", "kind", "engaged_at", "campaign", "last_engaged_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_contacts_member_sent", ["member_id", "sent_at", "kind", "campaign"], unique=False
        )

    op.create_table(
        "scope_pauses",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("not_for_me_at", app.database.types.UTCDateTime(), nullable=True),
        sa.Column("resumed_at", app.database.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_scope_pauses_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "scope", name=op.f("pk_scope_pauses")),
    )
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.database.types.UTCDateTime(), nullable=False),
        sa.Column("verified_at", app.database.types.UTCDateTime(), nullable=True),
        sa.Column("disabled_at", app.database.types.UTCDateTime(), nullable=True),
        sa.Column("disabled_reason", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_webhook_endpoints_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
        sa.UniqueConstraint("member_id", "url", name=op.f("uq_webhook_endpoints_member_id_url")),
    )
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_endpoints_url", ["url"], unique=False)

    op.create_table(
        "consent_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("at", app.database.types.UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("page", sa.String(length=300), nullable=True),
        sa.Column("wording", sa.Text(), nullable=False),
        sa.Column("wording_version", sa.Integer(), nullable=False),
        sa.Column("wording_hash", sa.String(length=64), nullable=False),
        sa.Column("client_hash", sa.String(length=64), nullable=True),
        sa.CheckConstraint("action IN ('grant', 'revoke')", name=op.f("ck_consent_events_action")),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["consent_subjects.id"],
            name=op.f("fk_consent_events_subject_id_consent_subjects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
        sa.UniqueConstraint("receipt", name=op.f("uq_consent_events_receipt")),
    )
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consent_events_subject", ["subject_id", "scope", "channel", "id"], unique=False
        )

    op.create_table(
        "consent_states",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("wording_version", sa.Integer(), nullable=False),
        sa.Column("granted_at", app.database.types.UTCDateTime(), nullable=True),
        sa.Column("changed_at", app.database.types.UTCDateTime(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["consent_events.id"],
            name=op.f("fk_consent_states_event_id_consent_events"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_consent_states_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "scope", "channel", name=op.f("pk_consent_states")),
    )
    with op.batch_alter_table("consent_states", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consent_states_scope",
            ["scope", "channel", "granted", "wording_version"],
            unique=False,
        )

    _append_only_upgrade()


def downgrade() -> None:
    _append_only_downgrade()
    with op.batch_alter_table("consent_states", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_states_scope")

    op.drop_table("consent_states")
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_events_subject")

    op.drop_table("consent_events")
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_endpoints_url")

    op.drop_table("webhook_endpoints")
    op.drop_table("scope_pauses")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_contacts_member_sent")
        batch_op.drop_index("ix_contacts_member_scope")
        batch_op.drop_index("ix_contacts_member_campaign")

    op.drop_table("contacts")
    op.drop_table("consent_subjects")
    op.drop_table("consent_preferences")
    op.drop_table("suppressions")
    op.drop_table("subscription_requests")
    op.drop_table("confirmation_mails")


APPEND_ONLY = "consent_events is append-only: record a new event instead"


def _append_only_upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(f"""
            CREATE OR REPLACE FUNCTION consent_events_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$""")
        op.execute("""
            CREATE TRIGGER consent_events_append_only BEFORE UPDATE OR DELETE ON consent_events
            FOR EACH ROW EXECUTE FUNCTION consent_events_append_only()""")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER consent_events_no_{verb.lower()} BEFORE {verb} ON consent_events
                BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""")


def _append_only_downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS consent_events_append_only ON consent_events")
        op.execute("DROP FUNCTION IF EXISTS consent_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS consent_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS consent_events_no_delete")
