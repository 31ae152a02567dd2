"""Every check of the gate in words: passed or failed, and the fact behind it.

Used by ``flask consent explain``, the marketers' member page and the "why did I get this?"
page. The verdicts come from :func:`app.consent.gate.rules.decide`, so words and decisions agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.consent.gate.cadence import SMS_HOURS, terms
from app.consent.gate.rules import (
    MONTH,
    REASONS,
    WEEK,
    Campaign,
    Decision,
    Facts,
    MemberFacts,
    daily_count,
    decide,
    ignored_streak,
    in_schedule,
    may_ask,
    next_allowed,
    quiet_until,
    relevant_contacts,
    resting_until,
    slot,
    usual_hour,
    usual_hour_moment,
    zone,
)
from app.consent.terms import Channel, GateReason
from app.web.times import local_time, reader_zone

LABELS = {
    GateReason.ACCOUNT: "Active account",
    GateReason.EARNED: "Earned the scope",
    GateReason.CONSENTED: "Said yes",
    GateReason.STALE_CONSENT: "On the current wording",
    GateReason.EXPIRED: "Still fresh",
    GateReason.ADDRESS: "Has an address",
    GateReason.SUPPRESSED: "Not bouncing",
    GateReason.COOLDOWN: "Cooled down",
    GateReason.CAP: "Within the cap",
    GateReason.PAUSED: "Not paused",
    GateReason.RESTING: "Not resting after silence",
    GateReason.QUIET: "Outside quiet hours",
    GateReason.SCHEDULE: "On a promised day and time",
    GateReason.TIMING: "At the member's usual hour",
}
LEARNING_OFF = "Learning is off on this site (NOTIFY_LEARNING), so this never holds."


@dataclass(frozen=True)
class Check:
    """One line: ``passed`` is None when the member is unknown."""

    code: str
    label: str
    passed: bool | None
    fact: str


def when(moment: datetime | None) -> str:
    """``moment`` in the zone of whoever reads the explanation (the marketer on the admin
    screens), in the one format of :mod:`app.web.times`."""
    return "never" if moment is None else local_time(moment, reader_zone())


def explain(
    facts: Facts,
    campaign: Campaign,
    member_id: int,
    channel: Channel,
    now: datetime,
) -> tuple[Decision, list[Check]]:
    """The decision and, for every check in the order of ``REASONS``, its verdict in words."""
    decision = decide(facts, campaign, member_id, channel, now)
    member = facts.members.get(member_id)
    lines = []
    for code in REASONS:
        if member is None:
            fact = "There is no such member." if code == GateReason.ACCOUNT else "Unknown member."
        else:
            fact = FACTS[code](member, facts, campaign, channel, now)
        passed = (
            (code not in decision.reasons)
            if member is not None
            else (False if code == GateReason.ACCOUNT else None)
        )
        lines.append(Check(code, LABELS[code], passed, fact))
    return decision, lines


def _account(
    m: MemberFacts, facts: Facts, campaign: Campaign, channel: Channel, now: datetime
) -> str:
    return "The member is active." if m.active else "The account was deleted."


def _earned(
    m: MemberFacts, facts: Facts, campaign: Campaign, channel: Channel, now: datetime
) -> str:
    scope = campaign.scope
    if scope.slug in m.earned:
        return f"Holds {scope.reward}."
    return f"Does not hold {scope.reward}; it is earned by {', '.join(scope.earned_by)}."


def _consented(
    m: MemberFacts, facts: Facts, campaign: Campaign, channel: Channel, now: datetime
) -> str:
    scope = campaign.scope
    if channel not in scope.channels:
        return f"{scope.title} is not offered by {channel}."
    state = m.consents.get((scope.slug, channel))
    if state is None:
        return f"Never said yes to {scope.title} by {channel}."
    if not state.granted:
        return f"Said no (revoked) on {when(state.changed_at)}."
    return f"Said yes on {when(state.granted_at)}."


def _stale(
    m: MemberFacts, facts: Facts, campaign: Campaign, channel: Channel, now: datetime
) -> str:
    scope = campaign.scope
    state = m.consents.get((scope.slug, channel))
    if state is None or not state.granted:
        return "No grant to check."
    if state.version != scope.consent_version:
        return (
            f"Granted on wording version {state.version}; version {scope.consent_version} "
            "is current, so the member must be asked again."
        )
    if state.wording_hash is not None and state.wording_hash != scope.wording_hash_for(channel):
        return (
            "Granted to other words (the consent text or the cadence changed since); the "
            "member must be asked again."
        )
    return f"Granted on wording version {state.version}, to the current words."


def _renewed(
    m: MemberFacts, campaign: Campaign, channel: Channel, now: datetime
) -> datetime | None:
    state = m.consents.get((campaign.scope.slug, channel))
    if state is None or not state.granted or state.granted_at is None:
        return None
    engaged = [
        c.last_engaged_at
        for c in relevant_contacts(m, campaign, now)
        if c.last_engaged_at is not None
    ]
    return max([state.granted_at, *engaged])


def _expired(
    m: MemberFacts, facts: Facts, campaign: Campaign, channel: Channel, now: datetime
) -> str:
    days = campaign.scope.expires_after_days
    if days is None:
        return "This scope's permission does not lapse."
    renewed = _renewed(m, campaign, channel, now)
    if renewed is None:
        return "No grant to check."
    lapse = renewed + timedelta(days=days)
    verb = "lapsed" if lapse <= now else "lapses"
    return (
        f"Last renewed {when(renewed)} (grant or engagement); it {verb} after {days} days, "
        f"on {when(lapse)}."
    )


def _address(
    m: MemberFacts, facts: Facts, campaign: Campaign, channel: Channel, now: datetime
) -> str:
    if channel == Channel.EMAIL:
        return (
            "The email address is verified."
            if m.email_verified
            else "The email address is not verified."
        )
    if channel == Channel.WEBHOOK:
        return (
            "Has a verified webhook endpoint."
            if m.webhook_verified
            else "Has no verified webhook endpoint."
        )
    if channel == Channel.TELEGRAM:
        return "Linked a Telegram chat." if m.telegram_linked else "Has not linked Telegram."
    if channel == Channel.SMS:
        return "Proved a mobile number." if m.sms_verified else "Has not proved a mobile number."
    if channel == Channel.PUSH:
        return (
            "Allowed notifications in a browser."
            if m.push_subscribed
            else "Has not allowed notifications in any browser."
        )
    return "The inbox on the site is always there."


def _suppressed(
    m: MemberFacts, facts: Facts, campaign: Campaign, channel: Channel, now: datetime
) -> str:
    if channel == Channel.EMAIL:
        return (
            "The address bounced or its owner complained."
            if m.email_suppressed
            else "No bounce or complaint on the address."
        )
    if channel == Channel.WEBHOOK and m.webhook_verified and not m.webhook_enabled:
        return "Every verified endpoint is disabled."
    if channel == Channel.TELEGRAM and m.telegram_linked and m.telegram_blocked:
        return "The member blocked the bot in Telegram."
    if channel == Channel.SMS and m.sms_verified and m.sms_suppressed:
        return "Texts to the number failed for good (the SMS centre said so)."
    if channel == Channel.PUSH and m.push_subscribed and not m.push_enabled:
        return "Notifications were turned off in every browser that allowed them."
    return "Nothing suppressed."


def _cooldown(
    m: MemberFacts, facts: Facts, campaign: Campaign, channel: Channel, now: datetime
) -> str:
    state = m.consents.get((campaign.scope.slug, channel))
    if state is None or not state.granted or state.granted_at is None:
        return "No grant to cool down from."
    end = state.granted_at + timedelta(hours=campaign.scope.cooldown_hours)
    verb = "ended" if end <= now else "ends"
    return f"{campaign.scope.cooldown_hours} hours after the grant, which {verb} {when(end)}."


def _cap(m: MemberFacts, facts: Facts, campaign: Campaign, channel: Channel, now: datetime) -> str:
    contacts = relevant_contacts(m, campaign, now)
    week = {c.campaign for c in contacts if c.sent_at > now - WEEK}
    day = daily_count(m, campaign, now)
    words = f"{len(week)} of at most {campaign.scope.max_per_week} on this scope in 7 days; "
    if campaign.scope.max_per_month is not None:
        month = {c.campaign for c in contacts if c.sent_at > now - MONTH}
        words += f"{len(month)} of at most {campaign.scope.max_per_month} in 30 days; "
    return words + f"{day} of at most {facts.daily_cap} on all scopes in 24 hours."


def _paused(
    m: MemberFacts, facts: Facts, campaign: Campaign, channel: Channel, now: datetime
) -> str:
    scope = campaign.scope
    reasons = []
    if m.paused_until is not None and now < m.paused_until:
        reasons.append(f"paused everything until {when(m.paused_until)}")
    if scope.slug in m.not_for_me:
        reasons.append(f"said \u201cnot for me\u201d about {scope.title}")
    streak = ignored_streak(m, scope.slug, relevant_contacts(m, campaign, now))
    if streak >= scope.pause_after_ignored:
        silence = f"ignored the last {streak} campaigns (pauses after {scope.pause_after_ignored})"
        contacts = relevant_contacts(m, campaign, now)
        if facts.learning and may_ask(m, scope, contacts, now):
            silence += ", so the next campaign goes as one \u201cstill want this?\u201d question"
        elif facts.learning and scope.slug in m.asked_at:
            silence += (
                f", and was asked whether they still want it on {when(m.asked_at[scope.slug])}"
            )
        reasons.append(silence)
    if reasons:
        return "The member " + "; ".join(reasons) + "."
    return f"Not paused; {streak} ignored in a row (pauses after {scope.pause_after_ignored})."


def _days(interval: timedelta) -> str:
    days = interval / timedelta(days=1)
    return f"{days:g} day" if days == 1 else f"{days:g} days"


def _resting(
    m: MemberFacts, facts: Facts, campaign: Campaign, channel: Channel, now: datetime
) -> str:
    if not facts.learning:
        return LEARNING_OFF
    scope = campaign.scope
    contacts = relevant_contacts(m, campaign, now)
    streak = ignored_streak(m, scope.slug, contacts)
    if streak == 0:
        return (
            "Engaged with the latest message on this scope, or none was sent: the promised "
            "cadence holds."
        )
    if streak >= scope.pause_after_ignored:
        return "Paused by silence instead (see above)."
    rest = resting_until(m, scope, contacts)
    assert rest is not None
    skipped = "one slot" if streak == 1 else f"{streak} slots"
    verb = "ended" if rest <= now else "lasts until"
    return (
        f"Ignored the last {streak} in a row, so skips {skipped} of {_days(slot(scope))} "
        f"after the latest; the rest {verb} {when(rest)}. Engaging ends it at once."
    )


def _timing(
    m: MemberFacts, facts: Facts, campaign: Campaign, channel: Channel, now: datetime
) -> str:
    if not facts.learning:
        return LEARNING_OFF
    hour = usual_hour(m)
    if hour is None:
        return "No history of clicks or reads yet: it goes at the first promised moment."
    usual = f"Usually reads around {hour:02d}:00 {m.time_zone}"
    moment = usual_hour_moment(m, campaign.scope, now, channel)
    if moment is None:
        return f"{usual}; now is the best promised hour left today."
    return f"{usual}, so it waits until {when(moment)}."


def _quiet(
    m: MemberFacts, facts: Facts, campaign: Campaign, channel: Channel, now: datetime
) -> str:
    local = now.astimezone(zone(m.time_zone)).strftime("%H:%M")
    held = []
    if m.quiet_start is not None and m.quiet_end is not None:
        held.append(
            f"Quiet hours {m.quiet_start // 60:02d}:{m.quiet_start % 60:02d}-"
            f"{m.quiet_end // 60:02d}:{m.quiet_end % 60:02d} {m.time_zone}"
        )
    if channel == Channel.SMS:
        held.append(f"texts only {SMS_HOURS[0] // 60:02d}:00-{SMS_HOURS[1] // 60:02d}:00 there")
    if not held:
        return "No quiet hours."
    until = quiet_until(m, now, channel)
    if until is None:
        return f"{'; '.join(held)}; it is {local} there."
    return f"{'; '.join(held)}; it is {local} there, so it waits until {when(until)}."


def _schedule(
    m: MemberFacts, facts: Facts, campaign: Campaign, channel: Channel, now: datetime
) -> str:
    scope = campaign.scope
    if not scope.days and scope.send_window is None:
        return "This scope promises no particular days or times."
    local = now.astimezone(zone(m.time_zone))
    promised = (
        f"Promised: {terms(scope.cadence)}; it is {local.strftime('%a %H:%M')} in {m.time_zone}"
    )
    if in_schedule(scope, local):
        return promised + "."
    moment = next_allowed(m, scope, now, channel)
    if moment is None:
        return promised + ", and the member's quiet hours leave no promised moment open."
    return promised + f", so it waits until {when(moment)}."


FactFunction = Callable[[MemberFacts, Facts, Campaign, Channel, datetime], str]
FACTS: dict[GateReason, FactFunction] = {
    GateReason.ACCOUNT: _account,
    GateReason.EARNED: _earned,
    GateReason.CONSENTED: _consented,
    GateReason.STALE_CONSENT: _stale,
    GateReason.EXPIRED: _expired,
    GateReason.ADDRESS: _address,
    GateReason.SUPPRESSED: _suppressed,
    GateReason.COOLDOWN: _cooldown,
    GateReason.CAP: _cap,
    GateReason.PAUSED: _paused,
    GateReason.RESTING: _resting,
    GateReason.QUIET: _quiet,
    GateReason.SCHEDULE: _schedule,
    GateReason.TIMING: _timing,
}
