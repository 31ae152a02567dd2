"""What each member's issue of a digest holds: their picks, and the affinity they are ranked by.

A member's picks are the articles published since their last issue (when the picks of the
last digest of the scope they were sent were chosen, so an article published between the
making of a letter and its delivery is not lost; without one, the last 30 days) that they
have not read or followed a link to, ranked by their *affinity*: the tags of the articles
they read, followed a link to and marked useful, each signal weighing half as much every 30
days (:func:`affinity`). Ties, and articles none of whose tags they know, go newest first.
Each pick carries the sentence that says why. With ``NOTIFY_LEARNING`` off every member gets
the same N newest articles since the scope's last digest (the plain policy the benchmark
compares against).

Signals are read for all members at once, in four queries (reads, clicks, "useful" on a
campaign made from a post and on a digest's picks), at most :data:`HORIZON` back.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.orm import InstrumentedAttribute
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RoutingException

from app.consent.scopes import Scope
from app.engage.models import Action
from app.extensions import db
from app.notify.models import Campaign, Click, Delivery, DigestPick
from app.notify.states import DeliveryState
from app.site.content import current, public_posts
from app.site.meta import tag_slug
from app.site.pages import Page

FIRST_WINDOW = timedelta(days=30)  # what is "new" for a member who never had an issue
HALF_LIFE = timedelta(days=30)
HORIZON = timedelta(days=180)  # older signals weigh under 1/64: not read at all
IN_LIST = 2_000  # up to this many members are named in the queries; more read all signals
READ, CLICK, USEFUL = "read", "click", "useful"


@dataclass(frozen=True)
class Signal:
    """A member engaged with an article: ``kind`` is read, click or useful."""

    member_id: int
    post: str
    kind: str
    at: datetime


@dataclass(frozen=True)
class Pick:
    """An article chosen for a member's issue, and the sentence that says why."""

    post: Page
    reason: str


# --- what members did -----------------------------------------------------------------------


def _among(column: InstrumentedAttribute[int], member_ids: Collection[int]) -> ColumnElement[bool]:
    """``column`` in ``member_ids`` when they are few enough to name; else no condition (the
    caller keeps only its members)."""
    if len(member_ids) <= IN_LIST:
        return column.in_(sorted(member_ids))
    return true()


def _article_slug(url: str) -> str | None:
    """The slug of the article ``url`` opens on this site, or None."""
    base = urlsplit(current_app.config["BASE_URL"])
    parts = urlsplit(url)
    if parts.netloc != base.netloc:
        return None
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/")
    try:
        endpoint, values = adapter.match(parts.path or "/", method="GET")
    except (HTTPException, RoutingException):
        return None
    return str(values["slug"]) if endpoint == "site.article" else None


def signals(member_ids: Collection[int], now: datetime) -> list[Signal]:
    """Every read, followed link to an article and "useful" of ``member_ids`` in the last
    :data:`HORIZON`, in four queries whatever the number of members."""
    since = now - HORIZON
    wanted = frozenset(member_ids)
    found: list[Signal] = []
    reads = select(Action.member_id, Action.action, Action.at).where(
        Action.action.startswith("read:"), Action.at >= since, _among(Action.member_id, wanted)
    )
    found += [Signal(m, action[5:], READ, at) for m, action, at in db.session.execute(reads)]
    base = current_app.config["BASE_URL"].rstrip("/")
    clicks = (
        select(Delivery.member_id, Click.url, Click.at)
        .join(Delivery, Delivery.id == Click.delivery_id)
        .where(
            Click.at >= since,
            Click.url.startswith(base, autoescape=True),
            _among(Delivery.member_id, wanted),
        )
    )
    for member_id, url, at in db.session.execute(clicks):
        slug = _article_slug(url)
        if slug is not None:
            found.append(Signal(member_id, slug, CLICK, at))
    from_posts = (
        select(Delivery.member_id, Campaign.source_post, Delivery.useful_at)
        .join(Campaign, Campaign.id == Delivery.campaign_id)
        .where(
            Delivery.useful_at >= since,
            Campaign.source_post.is_not(None),
            _among(Delivery.member_id, wanted),
        )
    )
    from_digests = (
        select(Delivery.member_id, DigestPick.post, Delivery.useful_at)
        .join(Campaign, Campaign.id == Delivery.campaign_id)
        .join(
            DigestPick,
            and_(
                DigestPick.campaign_id == Delivery.campaign_id,
                DigestPick.member_id == Delivery.member_id,
            ),
        )
        .where(Delivery.useful_at >= since, Campaign.digest, _among(Delivery.member_id, wanted))
    )
    for query in (from_posts, from_digests):
        found += [
            Signal(m, post, USEFUL, at)
            for m, post, at in db.session.execute(query)
            if post is not None and at is not None
        ]
    return [s for s in found if s.member_id in wanted]


def _weight(at: datetime, now: datetime) -> float:
    age = max((now - at).total_seconds(), 0.0)
    return math.pow(0.5, age / HALF_LIFE.total_seconds())


def _fold(
    found: Sequence[Signal], posts: Mapping[str, Page], now: datetime
) -> dict[int, dict[str, float]]:
    weights: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for signal in found:
        post = posts.get(signal.post)
        if post is None:
            continue
        for tag in post.tags:
            weights[signal.member_id][tag_slug(tag)] += _weight(signal.at, now)
    return {member: dict(tags) for member, tags in weights.items()}


def affinity(member_ids: Collection[int], now: datetime) -> dict[int, dict[str, float]]:
    """Per member, a weight per tag (by tag slug): one for each read, followed link to and
    "useful" of an article with that tag, halved for every :data:`HALF_LIFE` since.
    Members with no signal are left out."""
    return _fold(signals(member_ids, now), current().posts, now)


# --- the picks ------------------------------------------------------------------------------


def last_issues(scope: str, member_ids: Collection[int]) -> dict[int, datetime]:
    """Per member, when the picks of the last digest of ``scope`` they were sent were chosen."""
    query = (
        select(Delivery.member_id, func.max(Campaign.created_at))
        .join(Campaign, Campaign.id == Delivery.campaign_id)
        .where(
            Campaign.digest,
            Campaign.scope == scope,
            Delivery.state == DeliveryState.SENT,
            _among(Delivery.member_id, member_ids),
        )
        .group_by(Delivery.member_id)
    )
    wanted = frozenset(member_ids)
    return {m: at for m, at in db.session.execute(query) if m in wanted}


def _tag_name(tag: str) -> str:
    """A tag as a sentence says it: ``Consent`` as "consent", ``SMS`` as it is."""
    return tag if any(c.isupper() for c in tag[1:]) else tag.lower()


def _counted(count: int, what: str) -> str:
    return f"an {what}" if count == 1 and what[0] in "aeiou" else f"{count} {what}s"


def _reason(tag: str, found: Mapping[str, set[str]]) -> str:
    name = _tag_name(tag)
    if found.get(READ):
        return f"You read {_counted(len(found[READ]), 'article')} tagged {name} lately."
    if found.get(CLICK):
        return f"You opened {_counted(len(found[CLICK]), 'article')} tagged {name} lately."
    return f"You found {_counted(len(found[USEFUL]), 'article')} tagged {name} useful lately."


def new_posts(now: datetime, since: datetime) -> list[Page]:
    """Public posts published after ``since`` and by ``now``, newest first."""
    return [
        post
        for post in public_posts(now)
        if post.published_at is not None and since < post.published_at <= now
    ]


def picks(
    scope: Scope, member_ids: Collection[int], now: datetime, count: int | None = None
) -> dict[int, list[Pick]]:
    """The picks of each of ``member_ids`` for the digest of ``scope`` (``count`` articles, by
    default the scope's ``digest``): see the module's text. Members with nothing new are left
    out."""
    count = count or scope.digest or 3
    if not current_app.config["NOTIFY_LEARNING"]:
        return _plain_picks(scope, member_ids, now, count)
    issued = last_issues(scope.slug, member_ids)
    oldest = min([now - FIRST_WINDOW, *issued.values()])
    posts = new_posts(now, oldest)
    if not posts:
        return {}
    found = signals(member_ids, now)
    library = current().posts
    weights = _fold(found, library, now)
    seen: dict[int, set[str]] = defaultdict(set)
    kinds: dict[tuple[int, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for signal in found:
        if signal.kind in (READ, CLICK):
            seen[signal.member_id].add(signal.post)
        for tag in library[signal.post].tags if signal.post in library else ():
            kinds[(signal.member_id, tag_slug(tag))][signal.kind].add(signal.post)
    chosen: dict[int, list[Pick]] = {}
    for member in sorted(member_ids):
        since = issued.get(member, now - FIRST_WINDOW)
        mine = weights.get(member, {})
        scored = [
            (sum(mine.get(tag_slug(t), 0.0) for t in post.tags), post)
            for post in posts
            if post.published_at is not None
            and post.published_at > since
            and post.slug not in seen[member]
        ]
        # Python's sort is stable and ``posts`` is newest first: ties stay newest first.
        scored.sort(key=lambda pair: -pair[0])
        if not scored:
            continue
        fresh = "New since your last letter." if member in issued else "New this month."
        chosen[member] = [
            Pick(post, _why(post, mine, kinds, member) if score > 0 else fresh)
            for score, post in scored[:count]
        ]
    return chosen


def _why(
    post: Page,
    mine: Mapping[str, float],
    kinds: Mapping[tuple[int, str], Mapping[str, set[str]]],
    member: int,
) -> str:
    """The sentence for a pick the member's affinity chose: its tag they care most about."""
    best = max((tag_slug(t) for t in post.tags), key=lambda t: mine.get(t, 0.0))
    name = next(t for t in post.tags if tag_slug(t) == best)
    return _reason(name, kinds.get((member, best), {}))


def _plain_picks(
    scope: Scope, member_ids: Collection[int], now: datetime, count: int
) -> dict[int, list[Pick]]:
    """Without learning: the ``count`` newest articles since the scope's last digest (or in
    the last 30 days), the same for every member."""
    last = db.session.scalar(
        select(func.max(Campaign.created_at)).where(Campaign.digest, Campaign.scope == scope.slug)
    )
    since = last if last is not None else now - FIRST_WINDOW
    reason = "New since the last letter." if last is not None else "New this month."
    chosen = [Pick(post, reason) for post in new_posts(now, since)[:count]]
    return {member: list(chosen) for member in member_ids} if chosen else {}
