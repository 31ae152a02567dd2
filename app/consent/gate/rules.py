"""The gate: may campaign C (scope S) go to member M on channel H at time T, and if not, why not.

:func:`decide` is a pure function over a :class:`Facts` snapshot (no database, no clock); the
set-based :func:`app.consent.gate.audience.audience` gives the same answer for a whole scope at
once, and a property test keeps the two equal. Every failing check has a stable reason code:

``account``        M is active (not deleted)
``earned``         M holds ``scope:S``
``consented``      the latest ledger event for (M, S, H) is a grant, and S offers H
``stale-consent``  … and that grant was given to the current words of S: the same
                   ``consent_version`` and the same SHA-256 of :attr:`Scope.wording` (which
                   holds the cadence, so changing the cadence asks every member again)
``expired``        S.expires_after_days is set and neither the grant nor an engagement with S
                   happened within that many days
``address``        email: the address is verified; webhook: a verified endpoint; telegram: a
                   linked chat; sms: a proven number; push: a browser subscribed; inbox:
                   always
``suppressed``     email: no hard bounce or complaint on the address; webhook: not every
                   verified endpoint is disabled; telegram: the member has not blocked the
                   bot; sms: the SMS centre did not report the number unreachable for good;
                   push: not every subscription is gone
``cooldown``       T >= grant time + S.cooldown_hours
``cap``            fewer than S.max_per_week campaigns on S in the 7 days up to T, fewer than
                   S.max_per_month in the 30 days up to T, and fewer than the daily cap of
                   campaigns (any scope) in the 24 hours up to T
``paused``         M did not pause everything until after T, did not say "not for me" about S
                   (lifted by engaging again), and did not ignore the last
                   S.pause_after_ignored campaigns on S (since the last resume)
``resting``        (learning) M ignored the last k campaigns on S, 1 <= k < S.pause_after_ignored:
                   M skips k of S's slots after the latest of them (a slot is the shortest
                   interval the promise allows: 7 days / S.max_per_week, or 30 days /
                   S.max_per_month when that is longer), so T >= that campaign's time +
                   (k + 1/2) slots. Engaging with any campaign on S ends the rest at once
``quiet``          T is outside M's quiet hours in M's time zone, and for sms inside 08:00-21:00
                   there, whatever the scope says
``schedule``       T falls on one of S.days and inside S.send_window, in M's time zone
``timing``         (learning) among the hours left of M's day at T that the scope's schedule and
                   M's quiet hours allow, T is in the one M engaged in most (their smoothed
                   histogram of clicks, reads and article reads, in their time zone); a member
                   without such a history is never held for it

``quiet``, ``schedule`` and ``timing`` defer, they never drop: ``deferred_until`` is the first
moment all three allow (``timing`` only ever waits within the same day, for an hour the other
two allow). Every composed campaign passes every check, whatever its kind; messages the product
sends to one member because of what that member just did (system messages) do not go through
campaigns at all. Facts about past deliveries count only deliveries of campaigns (the two
gated kinds) sent at or before T, and never those of the campaign being decided (so its second
channel is not capped by its first). A campaign counts as engaged when any of its deliveries
to M was engaged with.

``resting`` and ``timing`` are the learned part of the gate: they hold only when
``Facts.learning`` is set (the ``NOTIFY_LEARNING`` setting), and they only ever send less or
later than the promise, never more or outside it. After a pause by silence (``paused`` from
``pause_after_ignored``), :func:`may_ask` allows one "still want this?" message in its place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.consent.gate.cadence import SMS_HOURS
from app.consent.scopes import Scope
from app.consent.terms import DEFERRING, GATED_KINDS, CampaignKind, Channel, GateReason

REASONS = tuple(GateReason)  # in the order the gate checks them
WEEK, DAY, MONTH = timedelta(days=7), timedelta(days=1), timedelta(days=30)
LOOKAHEAD = timedelta(days=8)


@dataclass(frozen=True)
class Campaign:
    """What is being sent: to ``scope``, of ``kind`` (``editorial`` or ``promotional``; the
    kind labels a campaign, it never changes what the gate checks). ``ref`` names the
    campaign in the contact history."""

    scope: Scope
    kind: CampaignKind
    ref: str | None = None

    @classmethod
    def of(cls, scope: Scope, ref: str | None = None) -> Campaign:
        """A gated campaign of the scope's own kind."""
        return cls(scope, scope.kind, ref)


@dataclass(frozen=True)
class ConsentFact:
    """The current state of (member, scope, channel), from the ledger's latest event."""

    granted: bool
    version: int
    granted_at: datetime | None = None
    changed_at: datetime | None = None
    wording_hash: str | None = None  # None: not known (only in hand-made facts)


@dataclass(frozen=True)
class ContactFact:
    """One delivery in the contact history."""

    scope: str
    campaign: str
    kind: CampaignKind
    sent_at: datetime
    engaged_at: datetime | None = None
    last_engaged_at: datetime | None = None


@dataclass(frozen=True)
class MemberFacts:
    """Everything the gate knows about one member. ``earned`` holds scope slugs;
    ``consents`` is keyed by (scope, channel); quiet hours are minutes after local midnight."""

    member_id: int
    active: bool = True
    email_verified: bool = False
    email_suppressed: bool = False
    webhook_verified: bool = False
    webhook_enabled: bool = False
    telegram_linked: bool = False
    telegram_blocked: bool = False
    sms_verified: bool = False
    sms_suppressed: bool = False
    push_subscribed: bool = False
    push_enabled: bool = False
    time_zone: str = "UTC"
    quiet_start: int | None = None
    quiet_end: int | None = None
    paused_until: datetime | None = None
    earned: frozenset[str] = frozenset()
    consents: Mapping[tuple[str, Channel], ConsentFact] = field(default_factory=dict)
    not_for_me: frozenset[str] = frozenset()
    resumed_at: Mapping[str, datetime] = field(default_factory=dict)
    contacts: tuple[ContactFact, ...] = ()
    # Per scope: when M was last asked "still want this?" after a pause by silence.
    asked_at: Mapping[str, datetime] = field(default_factory=dict)
    # How much M engaged in each local hour (0-23), smoothed; empty without a history.
    active_hours: tuple[float, ...] = ()


@dataclass(frozen=True)
class Facts:
    """A snapshot: the facts of some members, and the global per-member daily cap."""

    members: Mapping[int, MemberFacts]
    daily_cap: int
    learning: bool = True


@dataclass(frozen=True)
class Decision:
    """``allowed`` when no check failed. ``reasons`` lists the failing checks in the order of
    :data:`REASONS`. When only deferring checks failed, ``deferred_until`` is the first moment
    they allow (None when M's quiet hours cover every moment the scope's schedule allows in
    the next eight days)."""

    allowed: bool
    reasons: tuple[GateReason, ...]
    deferred_until: datetime | None = None

    @property
    def eligible(self) -> bool:
        """Whether the delivery belongs in the outbox: allowed now, or only deferred."""
        return all(reason in DEFERRING for reason in self.reasons)


# --- the checks -----------------------------------------------------------------------------


def has_address(member: MemberFacts, channel: Channel) -> bool:
    if channel == Channel.EMAIL:
        return member.email_verified
    if channel == Channel.WEBHOOK:
        return member.webhook_verified
    if channel == Channel.TELEGRAM:
        return member.telegram_linked
    if channel == Channel.SMS:
        return member.sms_verified
    if channel == Channel.PUSH:
        return member.push_subscribed
    return channel == Channel.INBOX


def is_suppressed(member: MemberFacts, channel: Channel) -> bool:
    if channel == Channel.EMAIL:
        return member.email_suppressed
    if channel == Channel.WEBHOOK:
        return member.webhook_verified and not member.webhook_enabled
    if channel == Channel.TELEGRAM:
        return member.telegram_linked and member.telegram_blocked
    if channel == Channel.SMS:
        return member.sms_verified and member.sms_suppressed
    if channel == Channel.PUSH:
        return member.push_subscribed and not member.push_enabled
    return False


def relevant_contacts(
    member: MemberFacts, campaign: Campaign, now: datetime, scope_only: bool = True
) -> list[ContactFact]:
    """Deliveries that count for ``campaign`` at ``now``: gated, sent at or before ``now``,
    not of this campaign, and (with ``scope_only``) on its scope."""
    slug, ref = campaign.scope.slug, campaign.ref
    return [
        c
        for c in member.contacts
        if c.kind in GATED_KINDS
        and c.sent_at <= now
        and c.campaign != ref
        and (not scope_only or c.scope == slug)
    ]


def ignored_streak(member: MemberFacts, scope: str, contacts: list[ContactFact]) -> int:
    """How many campaigns on ``scope`` went unengaged since the latest engaged one (and since
    the member last resumed the scope)."""
    resumed = member.resumed_at.get(scope)
    considered = [c for c in contacts if resumed is None or c.sent_at > resumed]
    last_engaged = max((c.sent_at for c in considered if c.engaged_at is not None), default=None)
    return len(
        {
            c.campaign
            for c in considered
            if c.engaged_at is None and (last_engaged is None or c.sent_at > last_engaged)
        }
    )


def slot(scope: Scope) -> timedelta:
    """The shortest interval between two campaigns on ``scope`` that its promise allows."""
    interval = WEEK / scope.max_per_week
    if scope.max_per_month is not None:
        interval = max(interval, MONTH / scope.max_per_month)
    return interval


def resting_until(
    member: MemberFacts, scope: Scope, contacts: list[ContactFact]
) -> datetime | None:
    """The end of the rest after ignored campaigns on ``scope`` (``resting``): with k of
    them ignored in a row, 1 <= k < pause_after_ignored, the latest one's time plus k and a
    half slots. None when the member is not resting (no campaign ignored, or paused).
    ``contacts`` are :func:`relevant_contacts` on the scope."""
    streak = ignored_streak(member, scope.slug, contacts)
    if not 1 <= streak < scope.pause_after_ignored:
        return None
    resumed = member.resumed_at.get(scope.slug)
    latest = max(c.sent_at for c in contacts if resumed is None or c.sent_at > resumed)
    return latest + slot(scope) * (streak + 0.5)


def paused_by_silence(member: MemberFacts, scope: Scope, contacts: list[ContactFact]) -> bool:
    """Whether the ignored campaigns alone pause ``scope`` for the member."""
    return ignored_streak(member, scope.slug, contacts) >= scope.pause_after_ignored


def may_ask(member: MemberFacts, scope: Scope, contacts: list[ContactFact], now: datetime) -> bool:
    """Whether a campaign the gate holds back only as ``paused``, by silence alone, may go
    as the one "still want this?" message of this pause: the member did not pause
    everything or say "not for me", and was not asked since they last engaged with the
    scope or resumed it."""
    if not paused_by_silence(member, scope, contacts) or scope.slug in member.not_for_me:
        return False
    if member.paused_until is not None and now < member.paused_until:
        return False
    asked = member.asked_at.get(scope.slug)
    if asked is None:
        return True
    ended = last_pause_ended(member, scope, contacts)
    return ended is not None and asked < ended


def last_pause_ended(
    member: MemberFacts, scope: Scope, contacts: list[ContactFact]
) -> datetime | None:
    """When the member last ended a pause of ``scope`` (engaged with it, or resumed it)."""
    ended = [c.last_engaged_at for c in contacts if c.last_engaged_at is not None]
    resumed = member.resumed_at.get(scope.slug)
    if resumed is not None:
        ended.append(resumed)
    return max(ended, default=None)


def usual_hour_moment(
    member: MemberFacts, scope: Scope, now: datetime, channel: Channel | None = None
) -> datetime | None:
    """When the member's own hour comes (``timing``): of the hours left in their local day
    at ``now`` whose start (or ``now``, for the current hour) the scope's schedule and the
    quiet hours of ``channel`` allow, the one with the most engagement in
    ``member.active_hours`` (the earliest of equals). None when that is the current hour, or
    the member has no history: the delivery need not wait."""
    weights = member.active_hours
    if len(weights) != 24 or not any(weights):
        return None
    tz = zone(member.time_zone)
    local = now.astimezone(tz)
    best: tuple[float, datetime] | None = None
    for hour in range(local.hour, 24):
        if hour == local.hour:
            moment = now
        else:
            wall = datetime.combine(local.date(), time(hour, 0))
            moment = first_instant_at(wall, tz, after=now)
            if moment.astimezone(tz).date() != local.date():
                continue
        if quiet_until(member, moment, channel) is not None or not in_schedule(
            scope, moment.astimezone(tz)
        ):
            continue
        if best is None or weights[hour] > best[0]:
            best = (weights[hour], moment)
    if best is None or best[1] == now:
        return None
    return best[1]


MIN_MOMENTS = 3  # fewer moments of engagement than this tell no usual hour
SPREAD = (1.0, 0.5, 0.25)  # an engagement at hour h counts at h, h +- 1 and h +- 2


def active_hours(moments: Iterable[datetime], time_zone: str) -> tuple[float, ...]:
    """How much the member engaged in each hour of their local day: every moment counts
    at its hour and, less, at the two hours on each side (the histogram, smoothed, wrapping
    at midnight). Empty with fewer than :data:`MIN_MOMENTS` moments."""
    tz = zone(time_zone)
    hours = [moment.astimezone(tz).hour for moment in moments]
    if len(hours) < MIN_MOMENTS:
        return ()
    weights = [0.0] * 24
    for hour in hours:
        for distance, weight in enumerate(SPREAD):
            weights[(hour + distance) % 24] += weight
            if distance:
                weights[(hour - distance) % 24] += weight
    return tuple(weights)


def usual_hour(member: MemberFacts) -> int | None:
    """The local hour the member engaged in most, if they have a history."""
    weights = member.active_hours
    if len(weights) != 24 or not any(weights):
        return None
    return max(range(24), key=lambda hour: (weights[hour], -hour))


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def in_quiet_hours(start: int, end: int, minute: int) -> bool:
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def quiet_windows(member: MemberFacts, channel: Channel | None) -> list[tuple[int, int]]:
    """The quiet windows (start and end, minutes after local midnight) that hold for
    ``channel``: the member's own quiet hours, and for sms the hours outside
    :data:`~app.consent.gate.cadence.SMS_HOURS`."""
    windows = []
    start, end = member.quiet_start, member.quiet_end
    if start is not None and end is not None and start != end:
        windows.append((start, end))
    if channel == Channel.SMS:
        windows.append((SMS_HOURS[1], SMS_HOURS[0]))
    return windows


def _window_ends(start: int, end: int, tz: ZoneInfo, now: datetime) -> datetime | None:
    local = now.astimezone(tz)
    if not in_quiet_hours(start, end, local.hour * 60 + local.minute):
        return None
    wall = datetime.combine(local.date(), time(end // 60, end % 60))
    if wall <= local.replace(tzinfo=None):
        wall += DAY
    return first_instant_at(wall, tz, after=now)


def quiet_until(
    member: MemberFacts, now: datetime, channel: Channel | None = None
) -> datetime | None:
    """When the quiet hours that hold for ``channel`` (:func:`quiet_windows`) end, if ``now``
    falls inside any of them; else None."""
    windows = quiet_windows(member, channel)
    if not windows:
        return None
    tz = zone(member.time_zone)
    moment = now
    for _ in range(2 * len(windows) + 1):  # each window can push the moment on at most once
        ends = [e for start, end in windows if (e := _window_ends(start, end, tz, moment))]
        if not ends:
            return None if moment == now else moment
        moment = max(ends)
    return moment


def in_schedule(scope: Scope, local: datetime) -> bool:
    """Whether the local wall-clock time ``local`` is on one of the scope's days and inside its
    send window. A window that wraps past midnight belongs to the day it starts on."""
    minute = local.hour * 60 + local.minute
    weekday = local.weekday()
    if scope.send_window is not None:
        start, end = scope.send_window
        if not in_quiet_hours(start, end, minute):
            return False
        if start > end and minute < end:
            weekday = (weekday - 1) % 7
    return not scope.days or weekday in scope.days


def schedule_opens(scope: Scope, tz: ZoneInfo, now: datetime) -> datetime | None:
    """The first moment after ``now`` at which the scope's schedule opens in ``tz``."""
    local = now.astimezone(tz)
    start = scope.send_window[0] if scope.send_window is not None else 0
    for offset in range(9):
        day = local.date() + timedelta(days=offset)
        if scope.days and day.weekday() not in scope.days:
            continue
        wall = datetime.combine(day, time(start // 60, start % 60))
        if wall <= local.replace(tzinfo=None):
            continue
        instant = first_instant_at(wall, tz, after=now)
        if instant > now and in_schedule(scope, instant.astimezone(tz)):
            return instant
    return None


def next_allowed(
    member: MemberFacts, scope: Scope, now: datetime, channel: Channel | None = None
) -> datetime | None:
    """The first moment at or after ``now`` outside the quiet hours that hold for
    ``channel`` and inside the scope's schedule, looking at most :data:`LOOKAHEAD` ahead."""
    tz = zone(member.time_zone)
    moment: datetime | None = now
    while moment is not None and moment - now <= LOOKAHEAD:
        quiet = quiet_until(member, moment, channel)
        if quiet is not None:
            moment = quiet
        elif not in_schedule(scope, moment.astimezone(tz)):
            moment = schedule_opens(scope, tz, moment)
        else:
            return moment
    return None


def first_instant_at(wall: datetime, tz: ZoneInfo, after: datetime) -> datetime:
    """The first instant later than ``after`` whose wall-clock time in ``tz`` is ``wall``; for
    a wall time skipped by a daylight-saving change, the instant the clocks jumped."""
    instants = []
    for fold in (0, 1):
        instant = wall.replace(tzinfo=tz, fold=fold).astimezone(UTC)
        if instant.astimezone(tz).replace(tzinfo=None) == wall and instant > after:
            instants.append(instant)
    if instants:
        return min(instants)
    # In a gap: the wall clock jumps past ``wall`` somewhere between the two readings.
    low = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    high = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    low, high = min(low, high), max(low, high)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


# --- the decision ---------------------------------------------------------------------------


def decide(
    facts: Facts, campaign: Campaign, member: int, channel: Channel, now: datetime
) -> Decision:
    """Whether ``campaign`` may go to ``member`` on ``channel`` at ``now``, and every reason it
    may not. Pure: reads only its arguments. A member missing from ``facts`` fails ``account``.
    """
    m = facts.members.get(member)
    if m is None:
        return Decision(False, (GateReason.ACCOUNT,))
    failed: set[GateReason] = set()
    if not m.active:
        failed.add(GateReason.ACCOUNT)
    if not has_address(m, channel):
        failed.add(GateReason.ADDRESS)

    scope = campaign.scope
    slug = scope.slug
    if slug not in m.earned:
        failed.add(GateReason.EARNED)
    consent = m.consents.get((slug, channel)) if channel in scope.channels else None
    granted_at = consent.granted_at if consent is not None and consent.granted else None
    if granted_at is None:
        failed.add(GateReason.CONSENTED)
    else:
        assert consent is not None
        if consent.version != scope.consent_version or (
            consent.wording_hash is not None
            and consent.wording_hash != scope.wording_hash_for(channel)
        ):
            failed.add(GateReason.STALE_CONSENT)
        if now < granted_at + timedelta(hours=scope.cooldown_hours):
            failed.add(GateReason.COOLDOWN)
    if is_suppressed(m, channel):
        failed.add(GateReason.SUPPRESSED)

    contacts = relevant_contacts(m, campaign, now)
    if granted_at is not None and scope.expires_after_days is not None:
        bound = now - timedelta(days=scope.expires_after_days)
        if granted_at <= bound and not any(
            c.last_engaged_at is not None and c.last_engaged_at > bound for c in contacts
        ):
            failed.add(GateReason.EXPIRED)
    week = {c.campaign for c in contacts if c.sent_at > now - WEEK}
    month = {c.campaign for c in contacts if c.sent_at > now - MONTH}
    if (
        len(week) >= scope.max_per_week
        or daily_count(m, campaign, now) >= facts.daily_cap
        or (scope.max_per_month is not None and len(month) >= scope.max_per_month)
    ):
        failed.add(GateReason.CAP)
    if (
        (m.paused_until is not None and now < m.paused_until)
        or slug in m.not_for_me
        or ignored_streak(m, slug, contacts) >= scope.pause_after_ignored
    ):
        failed.add(GateReason.PAUSED)
    if facts.learning:
        rest = resting_until(m, scope, contacts)
        if rest is not None and now < rest:
            failed.add(GateReason.RESTING)
    deferred = None
    if quiet_until(m, now, channel) is not None:
        failed.add(GateReason.QUIET)
    if not in_schedule(scope, now.astimezone(zone(m.time_zone))):
        failed.add(GateReason.SCHEDULE)
    if failed & DEFERRING:
        deferred = next_allowed(m, scope, now, channel)
    elif facts.learning and not failed:
        deferred = usual_hour_moment(m, scope, now, channel)
        if deferred is not None:
            failed.add(GateReason.TIMING)
    return _decision(failed, deferred)


def daily_count(member: MemberFacts, campaign: Campaign, now: datetime) -> int:
    """Campaigns (any scope, other than ``campaign``) that reached the member in the 24 hours
    up to ``now``."""
    since = now - DAY
    return len(
        {
            c.campaign
            for c in member.contacts
            if c.kind in GATED_KINDS and since < c.sent_at <= now and c.campaign != campaign.ref
        }
    )


def _decision(failed: set[GateReason], deferred: datetime | None = None) -> Decision:
    reasons = tuple(code for code in REASONS if code in failed)
    return Decision(not reasons, reasons, deferred)
