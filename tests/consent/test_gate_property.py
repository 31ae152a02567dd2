"""The audience query and the pure gate agree, for any members, histories and clocks, on the
database under test (SQLite, or PostgreSQL with PULLFIRST_TEST_DATABASE_URL); and the
worker's narrow read of one member's facts decides exactly as the full one.

Worlds are drawn near the edge: most members pass most checks, and every moment is a whole
number of hours from "now", so the boundaries of cooldowns, caps and pauses are hit exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.consent.gate.audience import audience
from app.consent.gate.facts import facts_for_send, load_facts
from app.consent.gate.rules import Campaign, decide
from app.consent.scopes import CHANNELS, Scope
from app.extensions import db
from tests.consent import world

T0 = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)  # a daylight-saving change in Europe
CAMPAIGNS = ("c1", "c2", "c3", "c4", "c5")
mostly = st.sampled_from((True, True, True, False))


def _scope(channel: str) -> st.SearchStrategy[Scope]:
    others = st.sets(st.sampled_from(CHANNELS))
    return st.builds(
        Scope,
        slug=st.just("topic"),
        title=st.just("Topic"),
        about=st.just("p"),
        consent_text=st.just("yes"),
        channels=st.tuples(mostly, others).map(
            lambda t: (
                tuple(sorted(t[1] | {channel}))
                if t[0] or not t[1] - {channel}
                else tuple(sorted(t[1] - {channel}))
            )
        ),
        earned_by=st.just(("account",)),
        kind=st.sampled_from(("editorial", "promotional")),
        max_per_week=st.integers(1, 4),
        consent_version=st.integers(1, 2),
        cooldown_hours=st.sampled_from((0, 24, 72)),
        pause_after_ignored=st.integers(1, 3),
        expires_after_days=st.sampled_from((None, None, 3, 14, 30)),
        max_per_month=st.sampled_from((None, None, 2, 4)),
        days=st.sampled_from(((), (), (4,), (0, 3), (6,))),
        send_window=st.sampled_from((None, None, (8 * 60, 18 * 60), (22 * 60, 2 * 60))),
    ).filter(lambda s: s.max_per_month is None or s.max_per_month >= s.max_per_week)


PERTURBATIONS = (
    "inactive",
    "unverified",
    "suppressed",
    "endpoints",
    "telegram",
    "phone",
    "browsers",
    "not earned",
    "consent",
    "other consents",
    "paused",
    "quiet",
    "not for me",
    "resumed",
    "time zone",
)


@st.composite
def _member(
    draw: Any, channel: str, scope: Scope, near: st.SearchStrategy[datetime], now: datetime
) -> dict[str, Any]:
    """A member who passes every check, then up to three things about them changed, and a
    contact history drawn at random."""
    version = st.sampled_from((scope.consent_version,) * 3 + (3 - scope.consent_version,))
    words = st.sampled_from((scope.wording_hash_for(channel),) * 3 + ("f" * 64,))
    consent = st.tuples(mostly, version, near, words)
    person: dict[str, Any] = {
        "active": True,
        "verified": True,
        "suppressed": False,
        "time_zone": "UTC",
        "endpoints": [(True, False)],
        "telegram": (True, False),  # linked, blocked
        "phone": (True, False),  # proven, failed for good
        "browsers": [False],  # one per browser: disabled
        "earned": True,
        "consents": {
            channel: (
                True,
                scope.consent_version,
                now - timedelta(days=10),
                scope.wording_hash_for(channel),
            )
        },
        "paused_until": None,
        "quiet": None,
        "not_for_me": None,
        "resumed": None,
    }
    for change in draw(st.lists(st.sampled_from(PERTURBATIONS), max_size=3, unique=True)):
        if change in ("inactive", "unverified", "suppressed", "not earned"):
            key = {
                "inactive": "active",
                "unverified": "verified",
                "not earned": "earned",
                "suppressed": "suppressed",
            }[change]
            person[key] = not person[key]
        elif change == "endpoints":
            person["endpoints"] = draw(
                st.lists(st.tuples(st.booleans(), st.booleans()), max_size=2)
            )
        elif change == "telegram":
            person["telegram"] = draw(st.tuples(st.booleans(), st.booleans()))
        elif change == "phone":
            person["phone"] = draw(st.tuples(st.booleans(), st.booleans()))
        elif change == "browsers":
            person["browsers"] = draw(st.lists(st.booleans(), max_size=2))
        elif change == "consent":
            person["consents"][channel] = draw(consent)
        elif change == "other consents":
            person["consents"].update(draw(st.dictionaries(st.sampled_from(CHANNELS), consent)))
        elif change == "paused":
            person["paused_until"] = draw(near)
        elif change == "quiet":
            start, end = draw(st.tuples(st.integers(0, 23), st.integers(0, 23)))
            person["quiet"] = (start * 60, end * 60)
        elif change == "time zone":
            person["time_zone"] = draw(st.sampled_from(("Europe/Berlin", "America/New_York")))
        else:
            person["not_for_me" if change == "not for me" else "resumed"] = draw(near)
    contact = st.tuples(
        st.sampled_from(("topic", "topic", "other")),
        st.sampled_from(CAMPAIGNS),
        st.sampled_from(("editorial", "promotional", "editorial", "transactional")),
        st.sampled_from(CHANNELS),
        near,
        st.sampled_from((True, True, False)),
        near,
    )
    person["contacts"] = [
        (scope_, campaign, kind, channel_, sent, engaged_at if engaged else None)
        for scope_, campaign, kind, channel_, sent, engaged, engaged_at in draw(
            st.lists(contact, max_size=6)
        )
    ]
    return person


def _build(people: list[dict[str, Any]]) -> list[int]:
    ids = []
    for n, person in enumerate(people):
        member = world.add_member(
            n,
            T0,
            verified=person["verified"],
            active=person["active"],
            time_zone=person["time_zone"],
        )
        ids.append(member.id)
        if person["suppressed"]:
            world.suppress(member, T0)
        for k, (verified, disabled) in enumerate(person["endpoints"]):
            world.endpoint(member.id, n * 10 + k, T0, verified=verified, disabled=disabled)
        linked, blocked = person["telegram"]
        if linked:
            world.telegram_chat(member.id, T0, blocked=blocked)
        proven, failed = person["phone"]
        if proven:
            world.phone(member.id, T0, failed=failed)
        for k, disabled in enumerate(person["browsers"]):
            world.browser(member.id, k, T0, disabled=disabled)
        if person["earned"]:
            world.earn(member.id, "topic", T0)
        for channel, (granted, version, at, words) in person["consents"].items():
            world.consent(
                member.id,
                "topic",
                channel,
                granted=granted,
                version=version,
                at=at,
                wording_hash=words,
            )
        if person["paused_until"] or person["quiet"]:
            world.preferences(
                member.id, T0, paused_until=person["paused_until"], quiet=person["quiet"]
            )
        if person["not_for_me"] or person["resumed"]:
            world.pause(
                member.id, "topic", not_for_me_at=person["not_for_me"], resumed_at=person["resumed"]
            )
        for scope, campaign, kind, channel, sent_at, engaged_at in person["contacts"]:
            world.contact(
                member.id,
                scope,
                campaign=campaign,
                kind=kind,
                channel=channel,
                sent_at=sent_at,
                engaged_at=engaged_at,
            )
    db.session.flush()
    return ids


def draw_world(data: Any) -> tuple[str, Scope, datetime, list[Any]]:
    """A channel, a scope offering it, a moment near T0 and up to six members whose histories
    fall near that moment (whole days, hours, and the edges of the caps' windows)."""
    channel = data.draw(st.sampled_from(CHANNELS), label="channel")
    scope = data.draw(_scope(channel), label="scope")
    now = T0 + timedelta(hours=data.draw(st.integers(-48, 48), label="now"))
    edges = st.sampled_from((0, -1, -23, -24, -25, -71, -72, -73, -167, -168, -169))
    whole_days = st.integers(-30, 1).map(lambda d: d * 24)
    near = (whole_days | st.integers(-24 * 30, 24) | edges).map(lambda h: now + timedelta(hours=h))
    people = data.draw(
        st.lists(_member(channel, scope, near, now), min_size=1, max_size=6), label="members"
    )
    return channel, scope, now, people


@pytest.mark.slow
@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_audience_equals_filtering_every_member_with_decide(app: Flask, data: Any) -> None:
    channel, scope, now, people = draw_world(data)
    kind = data.draw(
        st.sampled_from((scope.kind,) * 5 + ("editorial", "promotional")), label="kind"
    )
    campaign = Campaign(scope, kind, data.draw(st.sampled_from((None, "c1")), label="ref"))
    app.config["CONSENT_DAILY_CAP"] = data.draw(st.integers(1, 4), label="daily cap")
    with app.app_context():
        try:
            ids = _build(people)
            facts = load_facts(now=now)
            expected = {m for m in ids if decide(facts, campaign, m, channel, now).eligible}
            assert audience(scope, channel, now, campaign) == expected
            for m in ids:  # the worker's two-query read decides exactly as the full one
                assert decide(
                    facts_for_send(m, "topic", channel, now), campaign, m, channel, now
                ) == decide(facts, campaign, m, channel, now)
        finally:
            db.session.rollback()
