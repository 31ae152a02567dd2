"""Reading an article is the action ``read:<slug>``, recorded once per member.

The site emits :class:`~app.site.events.ArticleRead` after rendering the article in a read
transaction. The handler checks, still in that transaction, whether the member already has the
action (the common case: nothing to write); only when not does it end the read and record the
action in a write transaction of its own, which it commits. A failure is logged and never
breaks the page that was already rendered.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from app.database.core import writes
from app.engage.actions import has_action, parse_action, record_action
from app.engage.errors import InvalidAction
from app.extensions import db
from app.site.events import ArticleRead

log = logging.getLogger("pullfirst.engage")


def read_action(slug: str) -> str | None:
    """``read:<slug>``, or None when the slug cannot name an action."""
    action = f"read:{slug}"
    try:
        parse_action(action)
    except InvalidAction:
        return None
    return action


@writes
def _record(event: ArticleRead, action: str) -> None:
    try:
        record_action(event.member_id, action, event.at)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not record %s for member %s", action, event.member_id)


def on_article_read(event: ArticleRead) -> None:
    """Record ``read:<slug>`` for the member, at most once."""
    action = read_action(event.slug)
    if action is None:
        log.warning("article slug %r cannot name an action; read not recorded", event.slug)
        return
    if has_action(event.member_id, action):
        return
    _record(event, action)
