"""Notices every member must be able to read (new terms, a change to how data is kept): pulled,
never pushed.

A notice is a Markdown file in ``content/notices/<slug>.md``::

    ---
    title: We now sign every consent receipt
    date: 2026-12-01          # shown from then on
    until: 2027-03-01         # optional: no longer shown from then on
    ---
    Body in Markdown.

Notices reach no channel and pass no gate because they are never sent: they are shown at the top
of the inbox and in a line under the site's header for signed-in members who have not opened
them yet, and at ``/notices/<slug>`` for anyone. Opening one marks it read for that member.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from app.editorfiles.errors import EditorFileError
from app.extensions import db
from app.notify.models import NoticeRead
from app.registry import Slot
from app.site.checks import ContentProblem
from app.site.errors import OverBudget
from app.site.frontmatter import Source, SourceError, parse_source
from app.site.meta import FieldError, parse_moment
from app.site.rendering import render_markdown

log = logging.getLogger("pullfirst.notify")

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
FIELDS = frozenset({"title", "date", "until"})
MAX_TITLE = 150


@dataclass(frozen=True)
class Notice:
    slug: str
    title: str
    date: datetime
    until: datetime | None
    html: str

    def shown_at(self, now: datetime) -> bool:
        return self.date <= now and (self.until is None or now < self.until)


def read_notice(path: Path) -> Notice:
    """The notice in ``path``. Raises :class:`~app.site.errors.SourceError` with the line."""
    source = parse_source(path)
    slug = path.stem
    if not SLUG.match(slug):
        raise SourceError(
            path, 1, f"file name {path.name!r} must be a slug such as terms-2026.md (a-z, 0-9, -)"
        )
    fields = source.fields()
    try:
        fields.check_known(FIELDS)
        title = fields.text("title", max_length=MAX_TITLE)
    except EditorFileError as exc:
        raise SourceError(exc.path, exc.line, exc.message) from None
    date = _moment(source, "date", required=True)
    until = _moment(source, "until", required=False)
    assert date is not None
    if until is not None and until <= date:
        raise SourceError(path, source.line("until"), "until must come after date")
    try:
        rendered = render_markdown(source.body)
    except OverBudget as exc:
        raise SourceError(path, source.body_line + exc.line - 1, exc.message) from None
    return Notice(slug, title, date, until, rendered.html)


def _moment(source: Source, key: str, *, required: bool) -> datetime | None:
    value = source.meta.get(key)
    if value is None:
        if required:
            raise SourceError(source.path, 2, f"missing {key}")
        return None
    try:
        return parse_moment(value, key)
    except FieldError as exc:
        raise SourceError(source.path, source.line(key), str(exc)) from None


def _folder() -> Path:
    return Path(current_app.config["CONTENT_DIR"]) / "notices"


_Stamp = tuple[int, int]

NOTICES = Slot[dict[Path, tuple[_Stamp, Notice | SourceError]]](
    "notices", "the notices read so far, by file (a cache)", set_by="app.notify.notices._cached"
)


def _cached(path: Path) -> Notice | SourceError:
    """The notice in ``path``, read again only when its modification time or size changed
    (every signed-in page asks whether a notice waits)."""
    cache = NOTICES.ensure(dict)
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    hit = cache.get(path)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    try:
        found: Notice | SourceError = read_notice(path)
    except SourceError as exc:
        log.error("notice skipped: %s", exc)
        found = exc
    cache[path] = (stamp, found)
    return found


def all_notices() -> list[Notice]:
    """Every valid notice, newest first; a broken file is logged and left out."""
    found = [_cached(path) for path in sorted(_folder().glob("*.md"))]
    notices = [n for n in found if isinstance(n, Notice)]
    return sorted(notices, key=lambda n: (n.date, n.slug), reverse=True)


def find_notice(slug: str, now: datetime) -> Notice | None:
    """The notice ``slug`` if it is shown at ``now``."""
    if not SLUG.match(slug):
        return None
    path = _folder() / f"{slug}.md"
    if not path.is_file():
        return None
    notice = _cached(path)
    return notice if isinstance(notice, Notice) and notice.shown_at(now) else None


@dataclass(frozen=True)
class MemberNotice:
    notice: Notice
    read_at: datetime | None


def notices_for(member_id: int, now: datetime) -> list[MemberNotice]:
    """The notices shown at ``now``, each with when the member opened it."""
    shown = [n for n in all_notices() if n.shown_at(now)]
    if not shown:
        return []
    reads = {
        slug: read_at
        for slug, read_at in db.session.execute(
            select(NoticeRead.slug, NoticeRead.read_at).where(
                NoticeRead.member_id == member_id, NoticeRead.slug.in_([n.slug for n in shown])
            )
        )
    }
    return [MemberNotice(n, reads.get(n.slug)) for n in shown]


def unread_notices(member_id: int, now: datetime) -> list[Notice]:
    return [item.notice for item in notices_for(member_id, now) if item.read_at is None]


def mark_read(member_id: int, slug: str, now: datetime) -> None:
    """Record that the member opened the notice (once). The caller commits."""
    insert = (
        postgresql.insert(NoticeRead) if db.dialect == "postgresql" else sqlite.insert(NoticeRead)
    )
    db.session.execute(
        insert.values(member_id=member_id, slug=slug, read_at=now).on_conflict_do_nothing(
            index_elements=["member_id", "slug"]
        )
    )


def check_notices() -> list[ContentProblem]:
    """``flask content check`` for ``content/notices/``."""
    problems = []
    for path in sorted(_folder().glob("*.md")):
        try:
            read_notice(path)
        except SourceError as exc:
            problems.append(ContentProblem(exc.path, exc.line, exc.message))
    return problems
