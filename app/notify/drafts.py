"""Campaign drafts from posts: a published post whose front matter says ``notify: <scope>``
gets one draft campaign on that scope, which a marketer reviews and sends. The front matter
drives the push; the marketer keeps the last word (nothing is sent without them).

One draft per post, ever (``campaigns.source_post`` is unique): editing or re-publishing the
post does not make a second one. The worker looks for new posts on every tick.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.consent.scopes import find_scope
from app.extensions import db
from app.notify.campaigns import Draft, create_campaign
from app.notify.errors import CampaignError
from app.notify.models import Campaign
from app.site.content import public_posts
from app.site.pages import Page
from app.web.urls import external_url

log = logging.getLogger("pullfirst.notify")


def draft_body(post: Page) -> str:
    url = external_url("site.article", slug=post.slug)
    lines = [post.description or "", "", f"[Read “{post.title}”]({url})"]
    return "\n".join(lines).strip()


def draft_from_posts(now: datetime) -> list[int]:
    """Create the missing drafts for public posts with ``notify``; returns their ids.
    Commits."""
    posts = [p for p in public_posts(now) if p.meta.notify]
    if not posts:
        return []
    known = set(
        db.session.scalars(
            select(Campaign.source_post).where(Campaign.source_post.in_([p.slug for p in posts]))
        )
    )
    created = []
    for post in posts:
        if post.slug in known:
            continue
        scope = find_scope(post.meta.notify or "")
        if scope is None:
            log.warning("post %s asks to notify unknown scope %r", post.slug, post.meta.notify)
            continue
        draft = Draft(post.title, draft_body(post), scope.slug, scope.kind, scope.channels)
        try:
            with db.session.begin_nested():
                campaign = create_campaign(draft, None, now, source_post=post.slug)
        except (CampaignError, IntegrityError) as exc:
            log.warning("no draft for post %s: %s", post.slug, exc)
            continue
        created.append(campaign.id)
    db.session.commit()
    return created
