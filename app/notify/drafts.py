"""Campaign drafts from posts: a published post whose front matter says ``notify: <scope>``
gets one draft campaign on that scope, which a marketer reviews and sends. The front matter
drives the push; the marketer keeps the last word (nothing is sent without them).

The draft carries the article itself, not a teaser: the scopes promise articles ("the three
best new articles"), so the message holds the title, the lead, the article's Markdown (rendered
for mail like every campaign body, links made absolute) and a link to its page. An article too
long for a campaign body is cut at a paragraph, and says so.

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
from app.notify.campaigns import MAX_BODY, Draft, create_campaign
from app.notify.errors import CampaignError
from app.notify.models import Campaign
from app.site.content import public_posts
from app.site.frontmatter import SourceError, parse_source
from app.site.pages import Page
from app.web.urls import external_url

log = logging.getLogger("pullfirst.notify")


def article_markdown(post: Page) -> str:
    """The Markdown body of ``post``'s file (empty when the file cannot be read now)."""
    try:
        return parse_source(post.path).body.strip()
    except SourceError as exc:
        log.warning("cannot read the post %s for its campaign: %s", post.slug, exc)
        return ""


def _fitted(article: str, room: int, url: str) -> str:
    """``article`` whole when it fits in ``room`` characters, else its first paragraphs and
    a line saying where the rest is."""
    if len(article) <= room:
        return article
    rest = f"\n\n*The article goes on: [read the rest on the site]({url}).*"
    kept: list[str] = []
    used = len(rest)
    for paragraph in article.split("\n\n"):
        if used + len(paragraph) + 2 > room:
            break
        kept.append(paragraph)
        used += len(paragraph) + 2
    return "\n\n".join(kept) + rest


def draft_body(post: Page) -> str:
    """The campaign body for ``post``: its title, lead, whole article and a link to it."""
    url = external_url("site.article", slug=post.slug)
    head = [f"# {post.title}", ""]
    if post.description:
        head += [f"*{post.description}*", ""]
    foot = f"[Read “{post.title}” on the site]({url})"
    room = MAX_BODY - len("\n".join(head)) - len(foot) - 4
    article = _fitted(article_markdown(post), room, url)
    return "\n".join([*head, article, "", foot]).strip()


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
