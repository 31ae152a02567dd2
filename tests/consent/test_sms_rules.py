"""The gate's rules for text messages: whatever the scope and the member's quiet hours say,
a text is allowed only between 08:00 and 21:00 the member's time, and a deferred text waits
for a moment inside those hours; the SMS words carry what carriers expect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from app.consent.gate.rules import (
    Campaign,
    ConsentFact,
    Facts,
    MemberFacts,
    decide,
    in_schedule,
    quiet_until,
)
from app.consent.scopes import Scope
from app.consent.terms import Channel, GateReason

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Auckland")
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def scope(window: tuple[int, int] | None, days: tuple[int, ...]) -> Scope:
    return Scope(
        slug="offers",
        title="Offers",
        about="offers",
        consent_text="Yes, text me offers.",
        channels=(Channel.SMS, Channel.EMAIL),
        earned_by=("account",),
        kind="promotional",
        max_per_week=7,
        cooldown_hours=0,
        days=days,
        send_window=window,
        sms_program="Corner Shop",
    )


def texted(s: Scope, zone: str, quiet: tuple[int, int] | None) -> MemberFacts:
    return MemberFacts(
        member_id=1,
        sms_verified=True,
        email_verified=True,
        time_zone=zone,
        quiet_start=quiet[0] if quiet else None,
        quiet_end=quiet[1] if quiet else None,
        earned=frozenset({s.slug}),
        consents={
            (s.slug, channel): ConsentFact(
                True, 1, T0 - timedelta(days=30), T0, s.wording_hash_for(channel)
            )
            for channel in s.channels
        },
    )


def minute_of(moment: datetime, zone: str) -> int:
    local = moment.astimezone(ZoneInfo(zone))
    return local.hour * 60 + local.minute


windows = st.sampled_from((None, (0, 24 * 60 - 1), (6 * 60, 23 * 60), (22 * 60, 2 * 60)))
quiets = st.sampled_from((None, None, (22 * 60, 7 * 60), (12 * 60, 13 * 60), (20 * 60, 9 * 60)))


@settings(max_examples=400, deadline=None)
@given(
    window=windows,
    days=st.sampled_from(((), (4,), (5, 6))),
    zone=st.sampled_from(ZONES),
    quiet=quiets,
    minutes=st.integers(0, 60 * 24 * 14),
)
def test_a_text_is_never_allowed_outside_eight_to_nine_local(
    window: tuple[int, int] | None,
    days: tuple[int, ...],
    zone: str,
    quiet: tuple[int, int] | None,
    minutes: int,
) -> None:
    s = scope(window, days)
    member = texted(s, zone, quiet)
    now = T0 + timedelta(minutes=minutes)
    decision = decide(Facts({1: member}, 5), Campaign.of(s), 1, Channel.SMS, now)
    local = minute_of(now, zone)
    if decision.allowed:
        assert 8 * 60 <= local < 21 * 60
    elif not 8 * 60 <= local < 21 * 60:
        assert GateReason.QUIET in decision.reasons
    moment = decision.deferred_until
    if moment is not None:
        # The moment it waits for is allowed on every count: the law's hours, the member's
        # quiet hours and the scope's schedule.
        assert 8 * 60 <= minute_of(moment, zone) < 21 * 60
        assert quiet_until(member, moment, Channel.SMS) is None
        assert in_schedule(s, moment.astimezone(ZoneInfo(zone)))
        assert decide(Facts({1: member}, 5), Campaign.of(s), 1, Channel.SMS, moment).allowed


def test_email_keeps_the_scope_hours_where_texts_wait_for_eight() -> None:
    s = scope(None, ())
    member = texted(s, "Europe/Berlin", None)
    night = datetime(2026, 3, 2, 5, 30, tzinfo=UTC)  # 06:30 in Berlin
    assert decide(Facts({1: member}, 5), Campaign.of(s), 1, Channel.EMAIL, night).allowed
    text = decide(Facts({1: member}, 5), Campaign.of(s), 1, Channel.SMS, night)
    assert text.reasons == (GateReason.QUIET,)
    assert text.deferred_until == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 08:00 in Berlin


def test_the_sms_words_name_the_sender_the_hours_rates_and_keywords() -> None:
    s = scope((9 * 60, 20 * 60), (4,))
    words = s.wording_for(Channel.SMS)
    assert words.startswith(s.wording)  # the same consent text and cadence terms first
    assert "Texts from Corner Shop, never before 08:00 or after 21:00 your time." in words
    assert "Msg & data rates may apply. Reply STOP to cancel, HELP for help." in words
    assert s.wording_for(Channel.EMAIL) == s.wording
    assert s.wording_hash_for(Channel.SMS) != s.wording_hash


def test_a_grant_to_the_plain_words_is_stale_for_texts() -> None:
    s = scope(None, ())
    member = texted(s, "UTC", None)
    plain = dict(member.consents)
    plain[(s.slug, Channel.SMS)] = ConsentFact(True, 1, T0 - timedelta(days=3), T0, s.wording_hash)
    facts = Facts({1: MemberFacts(**{**member.__dict__, "consents": plain})}, 5)
    noon = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert decide(facts, Campaign.of(s), 1, Channel.SMS, noon).reasons == (
        GateReason.STALE_CONSENT,
    )
