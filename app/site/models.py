"""Tables of the site area: the web editor's autosaved drafts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.database.core import Base
from app.database.types import UTCDateTime


class EditorDraft(Base):
    """Text an editor typed in the web editor but has not saved yet, one per (editor, file).

    ``file`` names the content file as ``<folder>/<slug>`` (``posts/hello``,
    ``surveys/reader-2026``); ``base_hash`` is the hash of the file the text started from, so
    the editor can tell a draft of the current file from one of an older version.
    """

    __tablename__ = "editor_drafts"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    file: Mapped[str] = mapped_column(String(120), primary_key=True)
    text: Mapped[str] = mapped_column(Text())
    base_hash: Mapped[str] = mapped_column(String(64))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())
