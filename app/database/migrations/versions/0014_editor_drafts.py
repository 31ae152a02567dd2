"""editor drafts: the unsaved text of the web editor, kept per editor and file

Revision ID: 0014
Revises: 0013

``editor_drafts`` holds, for one editor (member) and one content file (``posts/<slug>``,
``pages/<slug>``, ``surveys/<slug>``), the text typed but not yet saved, the hash of the file
it started from (``base_hash``) and when it was kept. The editor offers to restore a draft newer
than the file; a save of that file by that editor deletes it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.database.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "editor_drafts",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("file", sa.String(length=120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("base_hash", sa.String(length=64), nullable=False),
        sa.Column("saved_at", app.database.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("member_id", "file"),
    )


def downgrade() -> None:
    op.drop_table("editor_drafts")
