"""member imports: import runs, their uploaded files, and the invitations they queue

Revision ID: 0019
Revises: 0018

``import_runs`` records each import of members from a CSV file (Ghost, listmonk, Mailchimp or a
mapped CSV): file, format, mapping, scope and channel, invitation rate, counts, who and when.
``import_uploads`` keeps the file of a run started on the admin screen until it is imported or
discarded. ``import_invitations`` holds the one plain mail each imported member gets, sent by
the worker at the run's rate; ``member_id`` is unique, so no member is ever invited twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.database.types

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("mapping", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("old_list", sa.String(length=120), nullable=False),
        sa.Column("evidence_wording", sa.Text(), nullable=True),
        sa.Column("evidence_where", sa.String(length=300), nullable=True),
        sa.Column("rate_count", sa.Integer(), nullable=False),
        sa.Column("rate_seconds", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("with_evidence", sa.Integer(), nullable=False),
        sa.Column("existing", sa.Integer(), nullable=False),
        sa.Column("left_out", sa.Integer(), nullable=False),
        sa.Column("bad", sa.Integer(), nullable=False),
        sa.Column("by_member_id", sa.Integer(), nullable=True),
        sa.Column("by", sa.String(length=254), nullable=False),
        sa.Column("created_at", app.database.types.UTCDateTime(), nullable=False),
        sa.Column("imported_at", app.database.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["by_member_id"], ["members.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "import_uploads",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["import_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id"),
    )
    op.create_table(
        "import_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("joined_at", app.database.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", app.database.types.UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", app.database.types.UTCDateTime(), nullable=True),
        sa.Column("message_id", sa.String(length=200), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["run_id"], ["import_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id"),
    )
    op.create_index("ix_import_invitations_run_state", "import_invitations", ["run_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_import_invitations_run_state", table_name="import_invitations")
    op.drop_table("import_invitations")
    op.drop_table("import_uploads")
    op.drop_table("import_runs")
