"""Campaigns: compose, schedule, send and cancel.

A campaign is ``editorial`` or ``promotional``, and the gate checks every one of its deliveries
in full: no kind, flag, role or command lets a composed message skip it. (Messages the product
sends to one member because of what that member just did are system messages: code sends
them, through ``app.mail``, never as campaigns.) A campaign remembers the scope's promise it
was saved under; it is not sent under another one until its author saved it again.

A campaign goes ``draft`` → ``scheduled`` (with a time) → ``sending`` (its outbox is filled) →
``sent`` (nothing left waiting), or to ``cancelled`` from any state before ``sent``. Sending
records the gate's audience per channel (who it reaches, and how many were excluded for each
reason) on the campaign, in the transaction that fills the outbox.

A campaign may narrow its audience with a filter (``audience_filter``, the language of
:mod:`app.notify.targeting`): it is checked when the campaign is saved and again when it is
sent, the outbox is filled only with the members of the gate's audience it keeps (those left
out are recorded under the reason ``not-targeted``), and the worker asks again before each
send.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.consent import texts
from app.consent.scopes import CHANNELS, Scope, find_scope, wording_hash
from app.consent.terms import CampaignKind, Channel, GateReason
from app.extensions import db
from app.mail.message import HeaderInjection, clean_header
from app.notify import outbox, targeting, targeting_eval
from app.notify.asking import askable
from app.notify.errors import CampaignError
from app.notify.models import Campaign
from app.notify.preview import preview_audience
from app.notify.render import check_body
from app.notify.states import CampaignState

KINDS = (CampaignKind.EDITORIAL, CampaignKind.PROMOTIONAL)
MAX_TITLE, MAX_BODY = 150, 20_000
EDITABLE = (CampaignState.DRAFT, CampaignState.SCHEDULED)
NOT_TARGETED = "not-targeted"  # left out, or suppressed at send time, by the campaign's filter


@dataclass(frozen=True)
class Draft:
    """What a marketer composes, as the form sent it: :func:`check_draft` says whether its
    kind and channels are ones we know."""

    title: str
    body: str
    scope: str
    kind: str
    channels: tuple[str, ...]
    audience_filter: str | None = None  # who it is for; blank or None: the whole audience


def check_draft(draft: Draft) -> Scope:
    """The draft's scope, or :class:`CampaignError` saying what is wrong."""
    title = draft.title.strip()
    if not title:
        raise CampaignError("Give the campaign a title: it is the subject of the mail.")
    if len(title) > MAX_TITLE:
        raise CampaignError(f"Keep the title under {MAX_TITLE} characters.")
    try:
        clean_header("Subject", title)
    except HeaderInjection:
        raise CampaignError("The title must be one line, without control characters.") from None
    if not draft.body.strip():
        raise CampaignError("Write the message.")
    if len(draft.body) > MAX_BODY:
        raise CampaignError(f"Keep the message under {MAX_BODY:,} characters.")
    check_body(draft.body)
    scope = find_scope(draft.scope)
    if scope is None:
        raise CampaignError(f"There is no scope {draft.scope!r} in content/scopes.toml.")
    if draft.kind not in KINDS:
        raise CampaignError(
            f"A campaign is editorial or promotional, not {draft.kind[:40]!r}: "
            "every campaign passes the whole gate."
        )
    if not draft.channels:
        raise CampaignError("Choose at least one channel.")
    for channel in draft.channels:
        if channel not in CHANNELS:
            raise CampaignError(f"Unknown channel {channel!r}.")
        if channel not in scope.channels:
            raise CampaignError(f"{scope.title} is not offered by {channel}.")
        if channel == Channel.SMS and not texts.configured():
            raise CampaignError("This site does not send texts: set SMS_SENDSMS_URL first.")
    targeting.checked(draft.audience_filter)  # raises TargetingError, a CampaignError
    return scope


def create_campaign(
    draft: Draft, author_id: int | None, now: datetime, source_post: str | None = None
) -> Campaign:
    """Save a new draft. Raises :class:`CampaignError`. The caller commits."""
    scope = check_draft(draft)
    campaign = Campaign(
        title=draft.title.strip(),
        body=draft.body,
        scope=draft.scope,
        kind=CampaignKind(draft.kind),
        channels=",".join(draft.channels),
        state=CampaignState.DRAFT,
        created_by=author_id,
        created_at=now,
        updated_at=now,
        source_post=source_post,
        promise_hash=promise_hash(scope),
        audience_filter=targeting.checked(draft.audience_filter),
    )
    db.session.add(campaign)
    db.session.flush()
    return campaign


def update_campaign(campaign: Campaign, draft: Draft, now: datetime) -> None:
    if campaign.state not in EDITABLE:
        raise CampaignError("This campaign was sent or cancelled; it can no longer change.")
    scope = check_draft(draft)
    campaign.title, campaign.body = draft.title.strip(), draft.body
    campaign.scope, campaign.kind = draft.scope, CampaignKind(draft.kind)
    campaign.channels = ",".join(draft.channels)
    campaign.audience_filter = targeting.checked(draft.audience_filter)
    campaign.updated_at, campaign.promise_hash = now, promise_hash(scope)


def promise_hash(scope: Scope) -> str:
    """The SHA-256 of what the scope promises its members (what, how often, when, where)."""
    return wording_hash(scope.promise)


def check_promise(campaign: Campaign, scope: Scope) -> None:
    """Raise :class:`CampaignError` when the scope's promise changed since the campaign was
    saved: its author wrote it for other terms."""
    if campaign.promise_hash is not None and campaign.promise_hash != promise_hash(scope):
        raise CampaignError(
            f"The promise of {scope.title} changed since this campaign was saved (it now "
            f"reads: {scope.promise}). Open the campaign, check that it still fits, and save "
            "it again before sending."
        )


def get_campaign(campaign_id: int) -> Campaign | None:
    return db.session.get(Campaign, campaign_id)


def campaigns(limit: int = 200) -> list[Campaign]:
    return list(
        db.session.scalars(
            select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc()).limit(limit)
        )
    )


def schedule(campaign: Campaign, at: datetime, now: datetime) -> None:
    """Send ``campaign`` at ``at`` (the worker starts it). Raises :class:`CampaignError`."""
    if campaign.state not in EDITABLE:
        raise CampaignError("Only a draft or a scheduled campaign can be scheduled.")
    if at <= now:
        raise CampaignError("Choose a time in the future, or send it now.")
    campaign.state, campaign.send_at, campaign.updated_at = CampaignState.SCHEDULED, at, now


def send_now(
    campaign: Campaign,
    now: datetime,
    progress: outbox.Progress | None = None,
    only: frozenset[int] | None = None,
    waiting: Mapping[str, Mapping[int, datetime]] | None = None,
) -> dict[str, int]:
    """Fill the outbox for ``campaign`` now; the worker delivers. Returns the audience per
    channel. ``only`` keeps the outbox to those members of the audience (a digest's members
    who have an issue); ``waiting`` adds members due later, per channel
    (:func:`app.notify.outbox.lapsing_soon`). Raises :class:`CampaignError`. The caller
    commits."""
    if campaign.state not in EDITABLE:
        raise CampaignError(f"This campaign is {campaign.state}; it cannot be sent again.")
    scope = check_draft(
        Draft(
            campaign.title,
            campaign.body,
            campaign.scope,
            campaign.kind,
            tuple(campaign.channel_list),
            campaign.audience_filter,
        )
    )
    check_promise(campaign, scope)
    campaign.state, campaign.enqueued_at, campaign.updated_at = CampaignState.SENDING, now, now
    campaign.send_at = campaign.send_at or now
    db.session.flush()
    counts = preview_audience(scope, campaign.channel_list, now, campaign.ref)
    gated = outbox.gate_campaign(campaign, scope)
    reached = {
        channel: p.members | askable(gated, Channel(channel), now, p.paused)
        for channel, p in counts.items()
    }
    audiences = targeted(campaign, reached, now)
    sizes = outbox.fill_outbox(
        campaign,
        scope,
        now,
        progress,
        audiences if only is None else {c: m & only for c, m in audiences.items()},
        waiting,
    )
    campaign.audience = json.dumps(
        {
            channel: {
                "eligible": sizes.get(channel, 0),
                "excluded": _left_out(
                    counts[channel].excluded,
                    len(counts[channel].members) - len(audiences[channel]),
                ),
                "deferred": counts[channel].deferred,
            }
            for channel in campaign.channel_list
        },
        sort_keys=True,
    )
    return sizes


def targeted(
    campaign: Campaign, audiences: dict[str, frozenset[int]], now: datetime
) -> dict[str, frozenset[int]]:
    """The members of each channel's audience that the campaign's filter keeps (all of them
    without a filter), the filter evaluated once over everyone in any channel."""
    if not campaign.audience_filter:
        return audiences
    everyone = set().union(*audiences.values()) if audiences else set()
    kept = targeting_eval.members(targeting.parsed(campaign.audience_filter), everyone, now)
    return {channel: members & kept for channel, members in audiences.items()}


def _left_out(excluded: Mapping[GateReason, int], not_targeted: int) -> dict[str, int]:
    """The gate's reasons, and how many of the gate's audience the filter left out."""
    left_out = {str(reason): count for reason, count in excluded.items()}
    if not_targeted:
        left_out[NOT_TARGETED] = not_targeted
    return left_out


def start_due(now: datetime) -> list[int]:
    """Send every scheduled campaign whose time came; returns their ids. Commits each."""
    started = []
    query = (
        select(Campaign)
        .where(Campaign.state == CampaignState.SCHEDULED, Campaign.send_at <= now)
        .order_by(Campaign.send_at)
    )
    if db.dialect == "postgresql":
        query = query.with_for_update(skip_locked=True)
    for campaign in list(db.session.scalars(query)):
        try:
            send_now(campaign, now)
        except CampaignError:
            campaign.state = CampaignState.CANCELLED
            campaign.cancelled_at = now
        started.append(campaign.id)
    db.session.commit()
    return started


def cancel(campaign: Campaign, now: datetime) -> int:
    """Cancel before or during sending: every delivery not yet taken by a worker is
    cancelled, and workers drop the ones they hold. Returns how many were cancelled."""
    if campaign.state not in (*EDITABLE, CampaignState.SENDING):
        raise CampaignError(f"This campaign is {campaign.state}; there is nothing to cancel.")
    campaign.state, campaign.cancelled_at, campaign.updated_at = CampaignState.CANCELLED, now, now
    return outbox.cancel_waiting(campaign.id, now)


def audience_counts(campaign: Campaign) -> dict[str, dict[str, object]]:
    """What :func:`send_now` recorded: per channel, ``eligible``, ``excluded`` and
    ``deferred``."""
    if not campaign.audience:
        return {}
    data: dict[str, dict[str, object]] = json.loads(campaign.audience)
    return data
