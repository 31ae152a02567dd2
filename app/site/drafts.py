"""Autosaved drafts of the web editor: the text an editor typed but did not save, kept per
editor and file so a closed tab, a crash or a lost connection loses at most a few seconds.

A draft names the hash of the file it started from (``base_hash``). The editor offers to restore
a draft whose text differs from the file; restoring it starts from that base, so a file saved by
someone else in the meantime shows as a conflict, never as a silent overwrite. Saving the file
deletes the editor's draft of it. Plain values in and out; the caller commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from app.extensions import db
from app.site.errors import ContentPathError, DraftTooLong
from app.site.models import EditorDraft

MAX_DRAFT_CHARS = 900_000  # the editor's own limit on a file's text
FILE_KEY = re.compile(r"^(posts|pages|surveys)/[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class KeptDraft:
    """A draft as the editor page shows it."""

    file: str
    text: str
    base_hash: str
    saved_at: datetime


def check_file_key(file: str) -> str:
    """``file`` when it names a content file as ``posts/<slug>``, ``pages/<slug>`` or
    ``surveys/<slug>``; raises :class:`ContentPathError` otherwise."""
    if len(file) > 120 or not FILE_KEY.match(file):
        raise ContentPathError(f"{file[:120]!r} does not name a post, page or survey")
    return file


def keep_draft(member_id: int, file: str, text: str, base_hash: str, now: datetime) -> KeptDraft:
    """Keep ``text`` as ``member_id``'s draft of ``file`` (replacing the previous one).
    Raises :class:`ContentPathError` for a bad file key and :class:`DraftTooLong` for a text
    over :data:`MAX_DRAFT_CHARS`."""
    check_file_key(file)
    if len(text) > MAX_DRAFT_CHARS:
        raise DraftTooLong(f"the text is over {MAX_DRAFT_CHARS:,} characters")
    row = db.session.get(EditorDraft, (member_id, file))
    if row is None:
        row = EditorDraft(member_id=member_id, file=file)
        db.session.add(row)
    row.text, row.base_hash, row.saved_at = text, base_hash[:64], now
    return KeptDraft(file, text, row.base_hash, now)


def draft_of(member_id: int, file: str) -> KeptDraft | None:
    """``member_id``'s draft of ``file``, if one is kept."""
    row = db.session.scalar(
        select(EditorDraft).where(EditorDraft.member_id == member_id, EditorDraft.file == file)
    )
    if row is None:
        return None
    return KeptDraft(row.file, row.text, row.base_hash, row.saved_at)


def clear_draft(member_id: int, file: str) -> None:
    """Forget ``member_id``'s draft of ``file`` (after a save, or when they discard it)."""
    db.session.execute(
        delete(EditorDraft).where(EditorDraft.member_id == member_id, EditorDraft.file == file)
    )
