"""The learned part of the gate (``resting`` and ``timing``): its rules at their boundaries,
and as properties: learning only ever adds reasons to the plain gate's (it sends less, never
more), no sequence of campaigns it lets through exceeds the promise, and nothing it lets
through or defers to falls in quiet hours or outside the scope's days and window."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.consent.gate.rules import (
    MONTH,
    WEEK,
    Campaign,
    ConsentFact,
    ContactFact,
    Facts,
    MemberFacts,
    active_hours,
    decide,
    in_schedule,
    quiet_until,
    resting_until,
    slot,
    usual_hour,
    zone,
)
from app.consent.scopes import Scope
from app.consent.terms import DEFERRING, Channel, GateReason

NOW = datetime(2026, 6, 12, 6, 0, tzinfo=UTC)  # a Friday
H, D = timedelta(hours=1), timedelta(days=1)
LETTER = Scope(
    slug="letter",
    title="Letter",
    about="the best new articles",
    consent_text="yes",
    channels=("email", "inbox", "sms"),
    earned_by=("account",),
    kind="editorial",
    max_per_week=1,
    consent_version=1,
    cooldown_hours=0,
    pause_after_ignored=4,
    days=(4,),
    send_window=(8 * 60, 18 * 60),
)


def member(**values: object) -> MemberFacts:
    base = MemberFacts(
        member_id=1,
        email_verified=True,
        sms_verified=True,
        earned=frozenset({"letter"}),
        consents={
            ("letter", Channel(c)): ConsentFact(True, 1, NOW - 400 * D, None, None)
            for c in LETTER.channels
        },
    )
    return replace(base, **values)  # type: ignore[arg-type]


def letters(*weeks_ago: int, engaged: frozenset[int] = frozenset()) -> tuple[ContactFact, ...]:
    """Weekly letters sent ``weeks_ago`` weeks before NOW at 10:00 UTC."""
    return tuple(
        ContactFact(
            "letter",
            f"w{w}",
            "editorial",
            NOW + 4 * H - w * WEEK,
            NOW + 5 * H - w * WEEK if w in engaged else None,
            NOW + 5 * H - w * WEEK if w in engaged else None,
        )
        for w in weeks_ago
    )


def reasons(m: MemberFacts, at: datetime, learning: bool = True) -> tuple[str, ...]:
    facts = Facts({1: m}, daily_cap=5, learning=learning)
    return decide(facts, Campaign.of(LETTER, "now"), 1, Channel.EMAIL, at).reasons


# --- resting --------------------------------------------------------------------------------


def test_one_ignored_letter_skips_one_friday_and_engagement_ends_the_rest_at_once() -> None:
    ignored = member(contacts=letters(1))
    friday = NOW + 4 * H
    assert reasons(ignored, friday) == ("resting",)
    assert reasons(ignored, friday, learning=False) == ()
    assert reasons(ignored, friday + WEEK) == ()  # two slots after the ignored one
    engaged = member(contacts=letters(1, engaged=frozenset({1})))
    assert reasons(engaged, friday) == ()


def test_each_more_ignored_letter_skips_one_more_slot_then_the_pause_holds() -> None:
    friday = NOW + 4 * H
    two = member(contacts=letters(2, 1))
    assert reasons(two, friday) == ("resting",)
    assert reasons(two, friday + WEEK) == ("resting",)
    assert reasons(two, friday + 2 * WEEK) == ()
    three = member(contacts=letters(3, 2, 1))
    assert reasons(three, friday + 2 * WEEK) == ("resting",)
    assert reasons(three, friday + 3 * WEEK) == ()
    four = member(contacts=letters(4, 3, 2, 1))
    assert reasons(four, friday + 10 * WEEK) == ("paused",)  # no rest: a pause
    resumed = member(contacts=letters(4, 3, 2, 1), resumed_at={"letter": NOW})
    assert reasons(resumed, friday) == ()


def test_the_slot_is_the_shortest_interval_the_promise_allows() -> None:
    assert slot(LETTER) == WEEK
    assert slot(replace(LETTER, max_per_week=2)) == WEEK / 2
    assert slot(replace(LETTER, max_per_week=1, max_per_month=2)) == MONTH / 2
    scope = replace(LETTER, max_per_week=1, max_per_month=2)
    rest = resting_until(member(contacts=letters(1)), scope, list(letters(1)))
    assert rest == NOW + 4 * H - WEEK + MONTH / 2 * 1.5


# --- timing ---------------------------------------------------------------------------------


def test_active_hours_need_three_moments_and_follow_the_members_zone() -> None:
    paris = "Europe/Paris"  # UTC+2 in June
    assert active_hours([NOW, NOW + D], paris) == ()
    moments = [NOW + 17 * H + k * D for k in range(3)]  # 23:00 UTC is 01:00 in Paris
    weights = active_hours(moments, paris)
    assert len(weights) == 24
    assert usual_hour(member(active_hours=weights, time_zone=paris)) == 1
    assert weights[0] == weights[2] == weights[1] / 2  # smoothed, wrapping at midnight
    assert weights[23] == weights[1] / 4


def test_a_delivery_waits_for_the_members_hour_inside_the_window() -> None:
    evening = active_hours([NOW + 11 * H + k * D for k in range(5)], "UTC")  # 17:00 UTC
    m = member(active_hours=evening)
    decision = decide(Facts({1: m}, 5), Campaign.of(LETTER, "now"), 1, Channel.EMAIL, NOW + 3 * H)
    assert decision.reasons == ("timing",)
    assert decision.deferred_until == NOW + 11 * H
    at_hour = decide(Facts({1: m}, 5), Campaign.of(LETTER, "now"), 1, Channel.EMAIL, NOW + 11 * H)
    assert at_hour.allowed
    # Past the member's hour, it goes at once; no history, it goes at the window's start.
    assert reasons(m, NOW + 11 * H + 30 * 60 * timedelta(seconds=1)) == ()
    assert reasons(member(), NOW + 2 * H) == ()


def test_an_hour_outside_the_window_picks_the_best_hour_the_window_allows() -> None:
    night = active_hours([NOW + 16 * H + k * D for k in range(4)], "UTC")  # 22:00 UTC
    decision = decide(
        Facts({1: member(active_hours=night)}, 5),
        Campaign.of(LETTER, "now"),
        1,
        Channel.EMAIL,
        NOW + 2 * H,
    )
    assert decision.allowed  # no engagement near 08:00-18:00: no hour is better than now
    evening = active_hours([NOW + 13 * H + k * D for k in range(4)], "UTC")  # 19:00 UTC
    decision = decide(
        Facts({1: member(active_hours=evening)}, 5),
        Campaign.of(LETTER, "now"),
        1,
        Channel.EMAIL,
        NOW + 2 * H,
    )
    assert decision.reasons == ("timing",)
    assert decision.deferred_until == NOW + 11 * H  # 17:00, the window's hour nearest 19:00


# --- properties -----------------------------------------------------------------------------

ZONES = ("UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Pacific/Auckland")
scopes = st.builds(
    lambda per_week, per_month, days, window, pause: replace(
        LETTER,
        max_per_week=per_week,
        max_per_month=per_month,
        days=days,
        send_window=window,
        pause_after_ignored=pause,
    ),
    st.integers(1, 3),
    st.none() | st.integers(1, 6),
    st.sampled_from(((), (4,), (0, 2, 4), (5, 6))),
    st.none() | st.sampled_from(((8 * 60, 18 * 60), (9 * 60, 20 * 60), (22 * 60, 2 * 60))),
    st.integers(1, 5),
)
hours = st.lists(st.integers(0, 23), max_size=8)
quiet = st.none() | st.tuples(st.integers(0, 23 * 60), st.integers(0, 23 * 60))


def _member(time_zone: str, quiet_hours: tuple[int, int] | None, engaged: list[int]) -> MemberFacts:
    tz = zone(time_zone)
    moments = [datetime(2026, 5, 1 + k, h, tzinfo=tz) for k, h in enumerate(engaged)]
    start, end = quiet_hours if quiet_hours is not None else (None, None)
    return member(
        time_zone=time_zone,
        quiet_start=start,
        quiet_end=end,
        active_hours=active_hours(moments, time_zone),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scope=scopes,
    time_zone=st.sampled_from(ZONES),
    quiet_hours=quiet,
    engaged=hours,
    channel=st.sampled_from((Channel.EMAIL, Channel.SMS)),
    ignored=st.lists(st.booleans(), max_size=6),
    offset=st.integers(0, 24 * 14 - 1),
)
def test_learning_only_adds_reasons_and_never_sends_outside_the_promise(
    scope: Scope,
    time_zone: str,
    quiet_hours: tuple[int, int] | None,
    engaged: list[int],
    channel: Channel,
    ignored: list[bool],
    offset: int,
) -> None:
    at = NOW + offset * H
    contacts = tuple(
        ContactFact(
            "letter",
            f"c{i}",
            "editorial",
            at - (len(ignored) - i) * 5 * D,
            None if was_ignored else at - (len(ignored) - i) * 5 * D + H,
            None if was_ignored else at - (len(ignored) - i) * 5 * D + H,
        )
        for i, was_ignored in enumerate(ignored)
    )
    m = replace(_member(time_zone, quiet_hours, engaged), contacts=contacts)
    campaign = Campaign.of(scope, "now")
    learned = decide(Facts({1: m}, 5, learning=True), campaign, 1, channel, at)
    plain = decide(Facts({1: m}, 5, learning=False), campaign, 1, channel, at)
    assert set(plain.reasons) <= set(learned.reasons)
    assert set(learned.reasons) - set(plain.reasons) <= {GateReason.RESTING, GateReason.TIMING}
    tz = zone(time_zone)
    for moment in (at if learned.allowed else None, learned.deferred_until):
        if moment is None:
            continue
        assert in_schedule(scope, moment.astimezone(tz))
        assert quiet_until(m, moment, channel) is None
    if GateReason.TIMING in learned.reasons:
        assert learned.deferred_until is not None and learned.deferred_until > at
        assert learned.deferred_until.astimezone(tz).date() == at.astimezone(tz).date()
        assert all(r in DEFERRING for r in learned.reasons)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scope=scopes,
    time_zone=st.sampled_from(ZONES),
    quiet_hours=quiet,
    engaged=hours,
    responses=st.lists(st.booleans(), min_size=1, max_size=40),
)
def test_a_season_of_campaigns_under_learning_never_exceeds_the_promise(
    scope: Scope,
    time_zone: str,
    quiet_hours: tuple[int, int] | None,
    engaged: list[int],
    responses: list[bool],
) -> None:
    """A campaign every 12 hours for 8 weeks, each delivered as soon as the learned gate
    allows (deferrals followed), the member engaging as ``responses`` says: the deliveries
    never exceed the caps, and each one is inside the schedule and outside quiet hours."""
    m = _member(time_zone, quiet_hours, engaged)
    tz = zone(time_zone)
    sent: list[datetime] = []
    contacts: list[ContactFact] = []
    for index in range(8 * 14):
        ref = f"c{index}"
        at: datetime | None = NOW + index * 12 * H
        for _ in range(4):  # follow deferrals, as the worker does
            assert at is not None
            facts = Facts({1: replace(m, contacts=tuple(contacts))}, 5, learning=True)
            decision = decide(facts, Campaign.of(scope, ref), 1, Channel.EMAIL, at)
            if decision.allowed or not decision.eligible:
                break
            at = decision.deferred_until
            if at is None:
                break
        if at is None or not decision.allowed:
            continue
        assert in_schedule(scope, at.astimezone(tz))
        assert quiet_until(m, at, Channel.EMAIL) is None
        response = responses[len(sent) % len(responses)]
        engaged_at = at + H if response else None
        contacts.append(ContactFact("letter", ref, "editorial", at, engaged_at, engaged_at))
        sent.append(at)
    for moment in sent:
        assert sum(moment - WEEK < s <= moment for s in sent) <= scope.max_per_week
        if scope.max_per_month is not None:
            assert sum(moment - MONTH < s <= moment for s in sent) <= scope.max_per_month
