"""Every reason code of the gate, on its own, at its boundaries and in combination, through
both the pure ``decide`` and the set-based ``audience``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import text

from app.accounts.models import Member
from app.consent.gate.audience import audience
from app.consent.gate.facts import load_facts
from app.consent.gate.rules import Campaign, decide
from app.consent.scopes import Scope
from app.consent.terms import GateReason
from app.extensions import db
from tests.consent import world

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
SCOPE = Scope(
    slug="topic",
    title="Topic",
    about="p",
    consent_text="yes",
    channels=("email", "inbox", "webhook"),
    earned_by=("account",),
    kind="promotional",
    max_per_week=2,
    consent_version=2,
    cooldown_hours=24,
    pause_after_ignored=3,
    expires_after_days=30,
)
H = timedelta(hours=1)
D = timedelta(days=1)

Change = Callable[[Member], None]


def granted(
    at: datetime, version: int = 2, channel: str = "email", words: str = SCOPE.wording_hash
) -> Change:
    return lambda m: world.consent(
        m.id, "topic", channel, granted=True, version=version, at=at, wording_hash=words
    )


def sent(
    at: datetime,
    campaign: str,
    engaged: bool = True,
    scope: str = "topic",
    kind: str = "promotional",
) -> Change:
    return lambda m: world.contact(
        m.id,
        scope,
        campaign=campaign,
        kind=kind,
        channel="email",
        sent_at=at,
        engaged_at=at + H if engaged else None,
    )


def setattr_(name: str, value: object) -> Change:
    return lambda m: setattr(m, name, value)


def _member(channel: str, changes: list[Change], base_consent: bool) -> int:
    member = world.add_member(1, NOW - 60 * D)
    world.earn(member.id, "topic", NOW - 60 * D)
    world.endpoint(member.id, member.id, NOW - 60 * D, verified=True, disabled=False)
    if base_consent:
        world.consent(
            member.id,
            "topic",
            channel,
            granted=True,
            version=2,
            at=NOW - 10 * D,
            wording_hash=SCOPE.wording_hash,
        )
    db.session.flush()
    for change in changes:
        change(member)
        db.session.flush()
    return member.id


SCENARIOS: list[tuple[str, str, list[Change], tuple[str, ...]]] = [
    ("everything holds", "email", [], ()),
    ("inbox is always an address", "inbox", [], ()),
    ("deleted member", "email", [setattr_("deleted_at", NOW - D)], (GateReason.ACCOUNT,)),
    (
        "scope not earned",
        "email",
        [
            lambda m: db.session.execute(
                text("DELETE FROM entitlements WHERE member_id = :m"), {"m": m.id}
            )
        ],
        (GateReason.EARNED,),
    ),
    (
        "revoked",
        "email",
        [lambda m: world.consent(m.id, "topic", "email", granted=False, version=2, at=NOW - D)],
        (GateReason.CONSENTED,),
    ),
    (
        "granted on an older wording",
        "email",
        [granted(NOW - 10 * D, version=1)],
        (GateReason.STALE_CONSENT,),
    ),
    (
        "granted to other words, such as another cadence",
        "email",
        [granted(NOW - 10 * D, words="f" * 64)],
        (GateReason.STALE_CONSENT,),
    ),
    ("email not verified", "email", [setattr_("email_verified_at", None)], (GateReason.ADDRESS,)),
    (
        "hard bounce on the address",
        "email",
        [lambda m: world.suppress(m, NOW - D)],
        (GateReason.SUPPRESSED,),
    ),
    (
        "webhook endpoint disabled",
        "webhook",
        [
            lambda m: db.session.execute(
                text("UPDATE webhook_endpoints SET disabled_at = verified_at WHERE member_id = :m"),
                {"m": m.id},
            )
        ],
        (GateReason.SUPPRESSED,),
    ),
    (
        "webhook endpoint never verified",
        "webhook",
        [
            lambda m: db.session.execute(
                text("UPDATE webhook_endpoints SET verified_at = NULL WHERE member_id = :m"),
                {"m": m.id},
            )
        ],
        (GateReason.ADDRESS,),
    ),
    ("granted 23 hours ago", "email", [granted(NOW - 23 * H)], (GateReason.COOLDOWN,)),
    ("granted exactly 24 hours ago", "email", [granted(NOW - 24 * H)], ()),
    (
        "two campaigns this week",
        "email",
        [sent(NOW - 2 * D, "a"), sent(NOW - 6 * D, "b")],
        (GateReason.CAP,),
    ),
    (
        "one of them exactly a week ago",
        "email",
        [sent(NOW - 2 * D, "a"), sent(NOW - 7 * D, "b")],
        (),
    ),
    (
        "two deliveries of one campaign count once",
        "email",
        [sent(NOW - 2 * D, "a"), sent(NOW - 2 * D + H, "a")],
        (),
    ),
    (
        "three campaigns of other scopes today: the daily cap",
        "email",
        [
            sent(NOW - 1 * H, "x", scope="other"),
            sent(NOW - 2 * H, "y", scope="other"),
            sent(NOW - 3 * H, "z", scope="other"),
        ],
        (GateReason.CAP,),
    ),
    (
        "one of them exactly a day ago",
        "email",
        [
            sent(NOW - 1 * H, "x", scope="other"),
            sent(NOW - 2 * H, "y", scope="other"),
            sent(NOW - 24 * H, "z", scope="other"),
        ],
        (),
    ),
    (
        "messages sent outside the gate before it held every campaign are not counted",
        "email",
        [
            sent(NOW - H, "x", kind="transactional"),
            sent(NOW - 2 * H, "y", kind="transactional"),
            sent(NOW - 3 * H, "z", kind="transactional"),
            sent(NOW - 4 * H, "w"),
        ],
        (),
    ),
    (
        "paused everything until later",
        "email",
        [lambda m: world.preferences(m.id, NOW, paused_until=NOW + H)],
        (GateReason.PAUSED,),
    ),
    (
        "a pause that ends now",
        "email",
        [lambda m: world.preferences(m.id, NOW, paused_until=NOW)],
        (),
    ),
    (
        "said not for me",
        "email",
        [lambda m: world.pause(m.id, "topic", not_for_me_at=NOW - D, resumed_at=None)],
        (GateReason.PAUSED,),
    ),
    (
        "ignored the last three campaigns",
        "email",
        [
            sent(NOW - 30 * D, "a"),
            sent(NOW - 20 * D, "b", engaged=False),
            sent(NOW - 15 * D, "c", engaged=False),
            sent(NOW - 9 * D, "d", engaged=False),
        ],
        (GateReason.PAUSED,),
    ),
    (
        "ignored two, engaged with the one sent at the same time as the third",
        "email",
        [
            sent(NOW - 20 * D, "b", engaged=False),
            sent(NOW - 15 * D, "c", engaged=False),
            sent(NOW - 9 * D, "d", engaged=False),
            sent(NOW - 20 * D, "a"),
        ],
        (),
    ),
    (
        "ignored three, but resumed after the first",
        "email",
        [
            sent(NOW - 20 * D, "b", engaged=False),
            sent(NOW - 15 * D, "c", engaged=False),
            sent(NOW - 9 * D, "d", engaged=False),
            lambda m: world.pause(m.id, "topic", not_for_me_at=None, resumed_at=NOW - 20 * D),
        ],
        (),
    ),
    (
        "granted 31 days ago, never engaged since",
        "email",
        [granted(NOW - 31 * D), sent(NOW - 31 * D, "a")],
        (GateReason.EXPIRED,),
    ),
    ("granted exactly 30 days ago", "email", [granted(NOW - 30 * D)], (GateReason.EXPIRED,)),
    (
        "granted 30 days ago less a second",
        "email",
        [granted(NOW - 30 * D + timedelta(seconds=1))],
        (),
    ),
    (
        "an engagement 29 days ago renews it",
        "email",
        [granted(NOW - 40 * D), sent(NOW - 29 * D - H, "a")],
        (),
    ),
    (
        "an engagement exactly 30 days ago does not",
        "email",
        [granted(NOW - 40 * D), sent(NOW - 30 * D - H, "a")],
        (GateReason.EXPIRED,),
    ),
    (
        "quiet hours",
        "email",
        [lambda m: world.preferences(m.id, NOW, quiet=(12 * 60, 13 * 60))],
        (GateReason.QUIET,),
    ),
    (
        "unverified, bounced and not earned at once",
        "email",
        [
            setattr_("email_verified_at", None),
            lambda m: world.suppress(m, NOW - D),
            lambda m: db.session.execute(
                text("DELETE FROM entitlements WHERE member_id = :m"), {"m": m.id}
            ),
        ],
        (GateReason.EARNED, GateReason.ADDRESS, GateReason.SUPPRESSED),
    ),
    (
        "stale, cooling down and paused",
        "email",
        [granted(NOW - H, version=1), lambda m: world.preferences(m.id, NOW, paused_until=NOW + D)],
        (GateReason.STALE_CONSENT, GateReason.COOLDOWN, GateReason.PAUSED),
    ),
]


@pytest.mark.parametrize(
    ("channel", "changes", "expected"), [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS]
)
def test_each_reason_through_decide_and_audience(
    app: Flask, channel: str, changes: list[Change], expected: tuple[str, ...]
) -> None:
    with app.app_context():
        member_id = _member(channel, changes, base_consent=True)
        decision = decide(load_facts(), Campaign.of(SCOPE), member_id, channel, NOW)
        assert decision.reasons == expected
        assert decision.allowed is (expected == ())
        in_audience = member_id in audience(SCOPE, channel, NOW)
        assert in_audience is (set(expected) <= {GateReason.QUIET})


def test_never_consented_and_a_channel_the_scope_does_not_offer(app: Flask) -> None:
    email_only = replace(SCOPE, channels=("email",))
    with app.app_context():
        member_id = _member("inbox", [], base_consent=False)
        facts = load_facts()
        assert decide(facts, Campaign.of(SCOPE), member_id, "email", NOW).reasons == (
            GateReason.CONSENTED,
        )
        world.consent(
            member_id,
            "topic",
            "inbox",
            granted=True,
            version=2,
            at=NOW - 10 * D,
            wording_hash=SCOPE.wording_hash,
        )
        db.session.flush()
        facts = load_facts()
        assert decide(facts, Campaign.of(SCOPE), member_id, "inbox", NOW).allowed
        assert decide(facts, Campaign.of(email_only), member_id, "inbox", NOW).reasons == (
            GateReason.CONSENTED,
        )
        assert audience(email_only, "inbox", NOW) == set()


def test_a_campaigns_own_deliveries_do_not_hold_back_its_other_channels(app: Flask) -> None:
    scope = replace(SCOPE, max_per_week=1, pause_after_ignored=1)
    with app.app_context():
        member_id = _member(
            "email",
            [
                sent(NOW - H, "launch", engaged=False),
                granted(NOW - 10 * D, words=scope.wording_hash),
            ],
            True,
        )
        facts = load_facts()
        assert decide(
            facts, Campaign(scope, "promotional", "launch"), member_id, "email", NOW
        ).allowed
        assert decide(
            facts, Campaign(scope, "promotional", "next"), member_id, "email", NOW
        ).reasons == (GateReason.CAP, GateReason.PAUSED)
        assert member_id in audience(scope, "email", NOW, Campaign(scope, "promotional", "launch"))


@pytest.mark.parametrize("kind", ["editorial", "promotional", "transactional", "system"])
def test_no_kind_skips_a_single_check(app: Flask, kind: str) -> None:
    with app.app_context():
        member_id = _member(
            "email",
            [
                lambda m: db.session.execute(
                    text("DELETE FROM entitlements WHERE member_id = :m"), {"m": m.id}
                ),
                lambda m: world.suppress(m, NOW - D),
                lambda m: world.preferences(m.id, NOW, paused_until=NOW + D, quiet=(0, 1439)),
            ],
            base_consent=False,
        )
        campaign = Campaign(SCOPE, kind)
        decision = decide(load_facts(), campaign, member_id, "email", NOW)
        assert decision.reasons == (
            GateReason.EARNED,
            GateReason.CONSENTED,
            GateReason.SUPPRESSED,
            GateReason.PAUSED,
            GateReason.QUIET,
        )
        assert member_id not in audience(SCOPE, "email", NOW, campaign)


MONDAY_NOON = NOW  # 15 June 2026 was a Monday
FRIDAYS = replace(SCOPE, days=(4,), send_window=(8 * 60, 18 * 60))


@pytest.mark.parametrize(
    ("name", "scope", "changes", "reasons", "until"),
    [
        (
            "outside the promised days",
            FRIDAYS,
            [],
            (GateReason.SCHEDULE,),
            datetime(2026, 6, 19, 8, tzinfo=UTC),
        ),
        (
            "the window is in the member's time zone",
            FRIDAYS,
            [setattr_("time_zone", "Europe/Berlin")],
            (GateReason.SCHEDULE,),
            datetime(2026, 6, 19, 6, tzinfo=UTC),
        ),
        (
            "quiet hours inside the window push it further",
            FRIDAYS,
            [lambda m: world.preferences(m.id, NOW, quiet=(7 * 60, 9 * 60 + 30))],
            (GateReason.SCHEDULE,),
            datetime(2026, 6, 19, 9, 30, tzinfo=UTC),
        ),
        (
            "quiet hours that cover the whole window leave no moment",
            FRIDAYS,
            [lambda m: world.preferences(m.id, NOW, quiet=(7 * 60, 19 * 60))],
            (GateReason.QUIET, GateReason.SCHEDULE),
            None,
        ),
        (
            "inside the window on a promised day",
            replace(SCOPE, days=(0,), send_window=(600, 780)),
            [],
            (),
            None,
        ),
        (
            "a window that wraps past midnight belongs to the day it starts",
            replace(SCOPE, days=(6,), send_window=(22 * 60, 13 * 60)),
            [],
            (),
            None,
        ),
        (
            "a window that wraps past midnight, on the wrong day",
            replace(SCOPE, days=(0,), send_window=(22 * 60, 13 * 60)),
            [],
            (GateReason.SCHEDULE,),
            datetime(2026, 6, 15, 22, tzinfo=UTC),
        ),
        (
            "two campaigns in 30 days reach the monthly cap",
            replace(SCOPE, max_per_month=2),
            [sent(NOW - 10 * D, "a"), sent(NOW - 20 * D, "b")],
            (GateReason.CAP,),
            None,
        ),
        (
            "one of them exactly 30 days ago",
            replace(SCOPE, max_per_month=2),
            [sent(NOW - 10 * D, "a"), sent(NOW - 30 * D, "b")],
            (),
            None,
        ),
    ],
)
def test_the_cadence_is_kept_as_data(
    app: Flask,
    name: str,
    scope: Scope,
    changes: list[Change],
    reasons: tuple[str, ...],
    until: datetime | None,
) -> None:
    with app.app_context():
        member_id = _member("email", changes, base_consent=False)
        world.consent(
            member_id,
            "topic",
            "email",
            granted=True,
            version=2,
            at=NOW - 10 * D,
            wording_hash=scope.wording_hash,
        )
        db.session.flush()
        decision = decide(load_facts(), Campaign.of(scope), member_id, "email", MONDAY_NOON)
        assert decision.reasons == reasons
        assert decision.deferred_until == until
        assert decision.eligible is (set(reasons) <= {GateReason.QUIET, GateReason.SCHEDULE})
        assert (member_id in audience(scope, "email", MONDAY_NOON)) is decision.eligible
