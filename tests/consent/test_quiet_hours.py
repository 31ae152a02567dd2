"""Quiet hours in the member's own time zone: across midnight, and across daylight-saving
changes, a delivery is deferred to the first moment the quiet hours are over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.consent.gate.rules import Campaign, ConsentFact, Facts, MemberFacts, decide, quiet_until
from app.consent.scopes import Scope

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
SCOPE = Scope(
    slug="topic",
    title="Topic",
    about="p",
    consent_text="yes",
    channels=("inbox",),
    earned_by=("account",),
    kind="editorial",
    max_per_week=5,
)


def member(start: str, end: str, time_zone: str = "Europe/Berlin") -> MemberFacts:
    def minutes(text: str) -> int:
        hours, mins = text.split(":")
        return int(hours) * 60 + int(mins)

    return MemberFacts(
        member_id=1,
        time_zone=time_zone,
        quiet_start=minutes(start),
        quiet_end=minutes(end),
        earned=frozenset({"topic"}),
        consents={("topic", "inbox"): ConsentFact(True, 1, datetime(2026, 1, 1, tzinfo=UTC))},
    )


def local(tz: ZoneInfo, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=tz, fold=fold).astimezone(UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("moment", "deferred_to"),
    [
        (local(BERLIN, 2026, 6, 10, 23, 30), local(BERLIN, 2026, 6, 11, 7, 0)),  # before midnight
        (local(BERLIN, 2026, 6, 11, 3, 0), local(BERLIN, 2026, 6, 11, 7, 0)),  # after midnight
        (local(BERLIN, 2026, 6, 11, 6, 59), local(BERLIN, 2026, 6, 11, 7, 0)),
        (local(BERLIN, 2026, 6, 10, 22, 0), local(BERLIN, 2026, 6, 11, 7, 0)),  # the first minute
        (local(BERLIN, 2026, 6, 11, 7, 0), None),  # over
        (local(BERLIN, 2026, 6, 10, 21, 59), None),  # not yet
        (local(BERLIN, 2026, 6, 10, 12, 0), None),
    ],
)
def test_quiet_hours_that_cross_midnight(moment: datetime, deferred_to: datetime | None) -> None:
    facts = Facts({1: member("22:00", "07:00")}, daily_cap=3)
    decision = decide(facts, Campaign.of(SCOPE), 1, "inbox", moment)
    assert decision.deferred_until == deferred_to
    assert decision.reasons == (("quiet",) if deferred_to else ())
    assert decision.eligible  # deferred, never dropped


def test_quiet_hours_follow_the_members_time_zone() -> None:
    noon_utc = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # 08:00 in New York, 14:00 in Berlin
    assert quiet_until(member("07:00", "09:00", "America/New_York"), noon_utc) == local(
        NEW_YORK, 2026, 6, 10, 9, 0
    )
    assert quiet_until(member("07:00", "09:00", "Europe/Berlin"), noon_utc) is None


def test_spring_forward_when_the_end_of_quiet_hours_does_not_exist() -> None:
    # Berlin, 29 March 2026: 02:00 CET jumps to 03:00 CEST. Quiet 22:00-02:30 ends at 03:00.
    at = local(BERLIN, 2026, 3, 29, 1, 30)
    assert quiet_until(member("22:00", "02:30"), at) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_spring_forward_shortens_the_night() -> None:
    # New York, 8 March 2026: 02:00 EST jumps to 03:00 EDT. 01:30 to 06:00 is 3.5 hours.
    at = local(NEW_YORK, 2026, 3, 8, 1, 30)
    until = quiet_until(member("01:00", "06:00", "America/New_York"), at)
    assert until == local(NEW_YORK, 2026, 3, 8, 6, 0)
    assert until is not None and until - at == timedelta(hours=3, minutes=30)


def test_fall_back_repeats_an_hour_and_both_passes_are_quiet() -> None:
    # Berlin, 25 October 2026: 03:00 CEST goes back to 02:00 CET; 02:10 happens twice.
    quiet = member("22:00", "02:30")
    first = local(BERLIN, 2026, 10, 25, 2, 10, fold=0)
    second = local(BERLIN, 2026, 10, 25, 2, 10, fold=1)
    assert second - first == timedelta(hours=1)
    assert quiet_until(quiet, first) == local(BERLIN, 2026, 10, 25, 2, 30, fold=0)
    assert quiet_until(quiet, second) == local(BERLIN, 2026, 10, 25, 2, 30, fold=1)
    # 00:00-06:00 lasts seven hours that night
    night = member("00:00", "06:00")
    midnight = local(BERLIN, 2026, 10, 25, 0, 0)
    assert quiet_until(night, midnight) == midnight + timedelta(hours=7)


ZONES = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC")
around_changes = st.sampled_from(
    (
        datetime(2026, 3, 8, 6, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 0, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 1, 5, 0, tzinfo=UTC),
        datetime(2026, 4, 4, 15, 0, tzinfo=UTC),
        datetime(2026, 6, 1, 0, 0, tzinfo=UTC),
    )
).flatmap(lambda base: st.integers(-36 * 60, 36 * 60).map(lambda m: base + timedelta(minutes=m)))


@given(
    start=st.integers(0, 1439),
    end=st.integers(0, 1439),
    zone=st.sampled_from(ZONES),
    now=around_changes,
)
def test_deferral_ends_at_the_first_moment_outside_quiet_hours(
    start: int, end: int, zone: str, now: datetime
) -> None:
    facts = MemberFacts(member_id=1, time_zone=zone, quiet_start=start, quiet_end=end)
    until = quiet_until(facts, now)
    if until is None:
        return
    assert now < until <= now + timedelta(hours=25)
    assert quiet_until(facts, until) is None
    assert quiet_until(facts, until - timedelta(seconds=1)) is not None
