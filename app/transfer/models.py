"""The importer's tables.

``import_runs`` records each import: the file, its format and column mapping, the scope and
channel its evidence is for, the rate of its invitations, its counts, who ran it and when. A run
made on the admin screen exists from the upload on (state ``checked``) and keeps the uploaded
file in ``import_uploads`` until it is imported or discarded, so that any web process can apply
it. ``import_invitations`` holds the one invitation each imported member gets, sent by the
worker at the run's rate; a member has at most one, ever. ``member_exports`` records each
download of the member export: when, in which format, from the admin screen or the command line,
and by whom.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.database.core import Base
from app.database.types import UTCDateTime


class ImportRun(Base):
    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(16))
    mapping: Mapped[str] = mapped_column(Text(), default="{}")  # JSON: field -> column
    scope: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    old_list: Mapped[str] = mapped_column(String(120))
    evidence_wording: Mapped[str | None] = mapped_column(Text(), default=None)
    evidence_where: Mapped[str | None] = mapped_column(String(300), default=None)
    rate_count: Mapped[int] = mapped_column(Integer())
    rate_seconds: Mapped[int] = mapped_column(Integer())
    state: Mapped[str] = mapped_column(String(16))
    rows: Mapped[int] = mapped_column(Integer(), default=0)
    imported: Mapped[int] = mapped_column(Integer(), default=0)
    with_evidence: Mapped[int] = mapped_column(Integer(), default=0)
    existing: Mapped[int] = mapped_column(Integer(), default=0)
    left_out: Mapped[int] = mapped_column(Integer(), default=0)
    bad: Mapped[int] = mapped_column(Integer(), default=0)
    by_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class ImportUpload(Base):
    """The file uploaded for a run on the admin screen, until it is imported or discarded."""

    __tablename__ = "import_uploads"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("import_runs.id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[bytes] = mapped_column(LargeBinary())


class ImportInvitation(Base):
    """The one plain mail an imported member gets: ``kind`` ``keep`` (consent was imported
    with evidence: confirm the address to keep receiving the scope) or ``ask`` (no evidence:
    say yes again)."""

    __tablename__ = "import_invitations"
    __table_args__ = (Index("ix_import_invitations_run_state", "run_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("import_runs.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), unique=True
    )
    kind: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16))
    line: Mapped[int] = mapped_column(Integer())
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer(), default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    message_id: Mapped[str | None] = mapped_column(String(200), default=None)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)


class MemberExportRecord(Base):
    """One download of the member export, recorded before its first byte is read."""

    __tablename__ = "member_exports"
    __table_args__ = (Index("ix_member_exports_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    format: Mapped[str] = mapped_column(String(8))
    via: Mapped[str] = mapped_column(String(16))  # "screen" or "cli"
    by_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    by: Mapped[str] = mapped_column(String(254))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
