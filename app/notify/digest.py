"""The digest: one letter per member, of the new articles picked for them.

A scope opts in with ``digest = N`` in ``content/scopes.toml`` (1 to 10 articles). Making a
digest (:func:`build_digest`, ``flask notify digest SCOPE``, or the worker once a period,
:func:`due_digests`) is one campaign with ``digest`` set, gated as one: the gate's audience
is found per channel exactly as for any campaign, each member of it gets the picks
(:func:`picks`) written to ``digest_picks``, and the outbox is filled only for the members
with at least one pick. Members with nothing new get nothing; when nobody has anything new
no campaign is made at all. Each delivery then passes the gate again at send time like any
other, and its body is that member's issue (:func:`issue_body`).

What each member gets, and why, is :mod:`app.notify.affinity` (:func:`affinity`,
:func:`picks`). The worker makes the digests that are due on its tick (:func:`due_digests`)
and builds each delivery's body from the member's picks (:func:`issue_body`), as the inbox
page does; the "why did I get this?" page lists the picks with their reasons
(:func:`why_picks`).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from weakref import WeakKeyDictionary

from flask import Flask, current_app
from sqlalchemy import func, insert, select, text

from app.consent.gate.rules import Campaign as GateCampaign
from app.consent.gate.why import WhyLink, WhyPick
from app.consent.scopes import Scope, all_scopes, find_scope
from app.consent.terms import Channel
from app.extensions import db
from app.notify.affinity import FIRST_WINDOW, Pick, affinity, new_posts, picks
from app.notify.campaigns import Draft, create_campaign, send_now
from app.notify.errors import CampaignError, DigestError
from app.notify.models import Campaign, Delivery, DigestPick
from app.notify.outbox import lapsing_soon
from app.notify.preview import preview_audience
from app.notify.render import PreparedBody, prepared_once
from app.notify.states import DeliveryState
from app.notify.why import campaign_of
from app.site.content import current
from app.site.errors import OverBudget
from app.site.leads import lead_markdown
from app.site.pages import Page
from app.web.times import day, site_zone
from app.web.urls import external_url

__all__ = [
    "NO_PICKS",
    "DigestPlan",
    "Pick",
    "affinity",
    "build_digest",
    "digest_scope",
    "due_digests",
    "issue_body",
    "picks",
    "plan_digest",
    "send_due_digests",
    "why_picks",
]

log = logging.getLogger("pullfirst.notify")

LETTER_CHANNELS = (Channel.EMAIL, Channel.INBOX, Channel.TELEGRAM)
NO_PICKS = "no-picks"  # the reason of a digest delivery whose member has no issue
NOTHING_NEW = "nothing-new"  # how many of the gate's audience had no issue (campaign figures)
DIGEST_LOCK = 0x70660D16  # PostgreSQL advisory lock: one worker makes a period's digests
WAIT_FOR_CAP = timedelta(hours=24)  # a member capped only until later today still gets it


@dataclass(frozen=True)
class DigestPlan:
    """What a digest of ``scope`` would be now: the new articles (``posts``, how many), the
    members the gate lets it reach (``reached``), and the picks of those who get an issue."""

    scope: Scope
    channels: tuple[Channel, ...]
    posts: int
    reached: frozenset[int] = frozenset()
    picks: dict[int, list[Pick]] = field(default_factory=dict)
    audience: dict[str, frozenset[int]] = field(default_factory=dict)  # reached per channel
    # Per channel, members held back now only by a cap or cooldown that lapses today, with
    # the moment it does: their issue waits for it (:func:`app.notify.outbox.lapsing_soon`).
    waiting: dict[str, dict[int, datetime]] = field(default_factory=dict)

    @property
    def nothing_new(self) -> int:
        return len(self.reached) - len(self.picks)


# --- which scope, which channels ----------------------------------------------------------


def digest_scope(slug: str) -> Scope:
    """The scope ``slug`` when it is a digest; raises :class:`DigestError` saying why not."""
    scope = find_scope(slug)
    if scope is None:
        raise DigestError(f"There is no scope {slug!r} in content/scopes.toml.")
    if scope.digest is None:
        raise DigestError(
            f"The scope {slug!r} is not a digest: give it `digest = 3` (how many articles "
            "each member's issue holds, 1 to 10) in content/scopes.toml."
        )
    return scope


def letter_channels(scope: Scope) -> tuple[Channel, ...]:
    """The scope's channels fit for a long letter that the notifier can send: email, the
    inbox, and Telegram when the bot has a token."""
    bot = bool(current_app.config.get("TELEGRAM_BOT_TOKEN"))
    return tuple(
        c for c in scope.channels if c in LETTER_CHANNELS and (c != Channel.TELEGRAM or bot)
    )


# --- making the campaign --------------------------------------------------------------------


def plan_digest(scope: Scope, now: datetime) -> DigestPlan:
    """Who the gate lets the digest of ``scope`` reach now, and the picks of each. Raises
    :class:`DigestError` for a scope with no channel fit for a letter."""
    channels = letter_channels(scope)
    if not channels:
        raise DigestError(
            f"{scope.title} offers none of email, inbox or Telegram (with a bot token): "
            "a digest is a letter; give the scope one of them in content/scopes.toml."
        )
    last_issue = (
        select(func.max(Campaign.created_at).label("at"))
        .join(Delivery, Delivery.campaign_id == Campaign.id)
        .where(
            Campaign.digest,
            Campaign.scope == scope.slug,
            Delivery.state == DeliveryState.SENT,
        )
        .group_by(Delivery.member_id)
        .subquery()
    )
    oldest = db.session.scalar(select(func.min(last_issue.c.at)))
    # Cheap first: with no article new to anybody, nobody's audience is worth computing.
    posts = new_posts(now, min(now - FIRST_WINDOW, oldest or now))
    if not posts:
        return DigestPlan(scope, channels, 0)
    audience = preview_audience(scope, channels, now)
    campaign = GateCampaign.of(scope)
    waiting = {
        channel: lapsing_soon(campaign, Channel(channel), now, WAIT_FOR_CAP, preview.members)
        for channel, preview in audience.items()
    }
    members = {
        channel: preview.members | waiting[channel].keys() for channel, preview in audience.items()
    }
    reached = frozenset().union(*members.values())
    return DigestPlan(
        scope, channels, len(posts), reached, picks(scope, reached, now), members, waiting
    )


def digest_title(scope: Scope, now: datetime) -> str:
    """``The weekly letter — 4 December 2026``: one title for every member, so the day is
    the site's (``time_zone`` in site.toml), in the one date format of :mod:`app.web.times`."""
    return f"{scope.title} — {day(now, site_zone())}"


def build_digest(
    scope: Scope, now: datetime, author_id: int | None = None, plan: DigestPlan | None = None
) -> Campaign | None:
    """Make and send the digest of ``scope`` (its ``plan``, made now when not given): one
    campaign whose outbox holds the members with an issue. None, and nothing written, when no
    member has anything new. Raises :class:`DigestError` or :class:`CampaignError`. The
    caller commits."""
    plan = plan if plan is not None else plan_digest(scope, now)
    if not plan.picks:
        return None
    size = scope.digest or len(max(plan.picks.values(), key=len))
    body = (
        f"A digest: each member gets their own issue of up to {size} new articles, picked "
        "by what they read, with a line saying why. Open a delivery to see one."
    )
    draft = Draft(digest_title(scope, now), body, scope.slug, scope.kind, plan.channels)
    campaign = create_campaign(draft, author_id, now)
    campaign.digest = True
    db.session.flush()
    rows = [
        {
            "campaign_id": campaign.id,
            "member_id": member,
            "position": position,
            "post": pick.post.slug,
            "reason": pick.reason,
        }
        for member, chosen in plan.picks.items()
        for position, pick in enumerate(chosen, 1)
    ]
    db.session.execute(insert(DigestPick), rows)
    waiting = {
        channel: {m: at for m, at in members.items() if m in plan.picks}
        for channel, members in plan.waiting.items()
    }
    send_now(campaign, now, only=frozenset(plan.picks), waiting=waiting)
    counts = json.loads(campaign.audience or "{}")
    for channel, members in plan.audience.items():
        idle = len(members - plan.picks.keys())
        if channel in counts and idle:
            counts[channel]["excluded"][NOTHING_NEW] = idle
    campaign.audience = json.dumps(counts, sort_keys=True)
    return campaign


def due_digests(now: datetime) -> list[Scope]:
    """The digest scopes whose letter is due at ``now``: today (UTC) is one of the scope's
    days (any day when it names none) and its last digest was made more than a period ago
    (a week over ``max_per_week``, less 12 hours so that a letter made later one week does
    not push the next one a day on; never less than half a period)."""
    due = []
    for scope in all_scopes().values():
        if scope.digest is None or (scope.days and now.weekday() not in scope.days):
            continue
        period = timedelta(days=7) / scope.max_per_week
        last = db.session.scalar(
            select(func.max(Campaign.created_at)).where(
                Campaign.digest, Campaign.scope == scope.slug
            )
        )
        if last is None or now - last >= max(period - timedelta(hours=12), period / 2):
            due.append(scope)
    return due


def send_due_digests(now: datetime) -> list[int]:
    """Make the digests :func:`due_digests` names (the worker's tick); returns the ids of the
    campaigns made. One worker at a time (SQLite's write lock, a PostgreSQL advisory lock).
    Commits."""
    if db.dialect == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": DIGEST_LOCK})
    made = []
    for scope in due_digests(now):
        try:
            with db.session.begin_nested():
                campaign = build_digest(scope, now)
        except CampaignError as exc:
            log.warning("no digest of %s: %s", scope.slug, exc)
            continue
        if campaign is not None:
            made.append(campaign.id)
            log.info("digest of %s: campaign %s", scope.slug, campaign.id)
    db.session.commit()
    return made


# --- one member's issue ---------------------------------------------------------------------


def issue_picks(campaign_id: int, member_id: int) -> list[tuple[DigestPick, Page | None]]:
    """The member's picks of a digest campaign, in order, each with its article (None for
    one no longer in the content folder)."""
    posts = current().posts
    rows = db.session.scalars(
        select(DigestPick)
        .where(DigestPick.campaign_id == campaign_id, DigestPick.member_id == member_id)
        .order_by(DigestPick.position)
    )
    return [(row, posts.get(row.post)) for row in rows]


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!>])")


def _escaped(words: str) -> str:
    """``words`` as Markdown that reads them as they are (a title, a reason)."""
    words = words.replace("&", "&amp;").replace("<", "&lt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", words)


def issue_markdown(chosen: Sequence[Pick], leads: bool = True) -> str:
    """A member's issue in Markdown: per pick, the article's title as a link to it, its
    lead (unless ``leads`` is false), and the line saying why, emphasised."""
    parts = []
    for pick in chosen:
        url = external_url("site.article", slug=pick.post.slug)
        # A strong link, not a heading: a heading would carry the site's "#" anchor link.
        parts.append(f"**[{_escaped(pick.post.title)}]({url})**")
        lead = lead_markdown(pick.post) if leads else ""
        if lead:
            parts.append(lead)
        parts.append(f"*{_escaped(pick.reason)}*")
    return "\n\n".join(parts)


class _Issues:
    """The issues rendered lately, per app and (campaign version, member, content version), at
    most a batch's worth (``NOTIFY_BATCH``): a member's deliveries of one issue on several
    channels in a batch render it once, and nothing is kept much longer than that. Held per
    app, weakly, so that one app never reads another's."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.kept: WeakKeyDictionary[Flask, OrderedDict[tuple[object, ...], PreparedBody | None]]
        self.kept = WeakKeyDictionary()

    def get(self, app: Flask, key: tuple[object, ...]) -> tuple[bool, PreparedBody | None]:
        with self.lock:
            kept = self.kept.get(app)
            if kept is None or key not in kept:
                return False, None
            kept.move_to_end(key)
            return True, kept[key]

    def put(
        self, app: Flask, key: tuple[object, ...], value: PreparedBody | None, size: int
    ) -> None:
        with self.lock:
            kept = self.kept.setdefault(app, OrderedDict())
            kept[key] = value
            while len(kept) > size:
                kept.popitem(last=False)


_ISSUES = _Issues()


def issue_body(campaign: Campaign, member_id: int) -> PreparedBody | None:
    """The member's issue of the digest ``campaign``, prepared like a campaign's body (the
    worker fills in a delivery's tracked links); None when they have no pick (or none of
    their articles is left). An issue whose leads do not render within the render budget
    is sent with titles and reasons only (and logged)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    key = (campaign.id, campaign.updated_at, member_id, current().generation)
    found, body = _ISSUES.get(app, key)
    if found:
        return body
    chosen = [Pick(post, row.reason) for row, post in issue_picks(campaign.id, member_id) if post]
    body = None
    if chosen:
        try:
            body = prepared_once(issue_markdown(chosen))
        except OverBudget as exc:
            log.error(
                "digest %s, member %s: the leads are over budget: %s", campaign.id, member_id, exc
            )
            body = prepared_once(issue_markdown(chosen, leads=False))
    _ISSUES.put(app, key, body, int(current_app.config["NOTIFY_BATCH"]))
    return body


# --- "why did I get this?" ------------------------------------------------------------------


def why_picks(link: WhyLink) -> list[WhyPick]:
    """For the "why did I get this?" page: when the message of ``link`` is an issue of a
    digest, the articles picked for the member with the reason of each."""
    campaign = campaign_of(link)
    if campaign is None or not campaign.digest:
        return []
    return [
        WhyPick(
            post.title if post is not None else row.post,
            external_url("site.article", slug=post.slug) if post is not None else None,
            row.reason,
        )
        for row, post in issue_picks(campaign.id, link.member_id)
    ]
