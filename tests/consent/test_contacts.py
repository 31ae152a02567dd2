"""The contact history the notifier feeds: idempotent deliveries, engagement per campaign,
"not for me" until the member engages again, suppressions; and how the gate reads them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from app.consent import webhooks
from app.consent.gate import contacts
from app.consent.gate.facts import facts_for
from app.consent.gate.rules import Campaign, decide
from app.consent.ledger import consents
from app.consent.ledger.consents import Origin
from app.consent.models import Contact
from app.consent.scopes import get_scope
from app.extensions import db
from app.rewards.entitlements import grant
from tests.conftest import Clock


def _decide(member_id: int, channel: str, when: Any, ref: str | None = None) -> tuple[str, ...]:
    scope = get_scope("newsletter")
    return decide(facts_for(member_id), Campaign.of(scope, ref), member_id, channel, when).reasons


def _granted(member: Any, clock: Clock) -> None:
    scope = get_scope("newsletter")
    for channel in ("email", "inbox"):
        consents.grant_consent(
            member.id,
            scope,
            channel,
            scope.wording,
            Origin("preferences"),
            clock() - timedelta(days=30),
        )


def test_deliveries_are_recorded_once_per_reference(app: Flask, member: Any, clock: Clock) -> None:
    with app.app_context():
        assert contacts.record_contact(
            member.id,
            "newsletter",
            "email",
            campaign="c1",
            kind="editorial",
            ref="d1",
            sent_at=clock(),
        )
        assert not contacts.record_contact(
            member.id,
            "newsletter",
            "email",
            campaign="c1",
            kind="editorial",
            ref="d1",
            sent_at=clock(),
        )
        with pytest.raises(ValueError):
            contacts.record_contact(
                member.id,
                "newsletter",
                "fax",
                campaign="c1",
                kind="editorial",
                ref="d2",
                sent_at=clock(),
            )
        assert len(contacts.contacts_of(member.id)) == 1


def test_engaging_on_one_channel_marks_the_whole_campaign_engaged(
    app: Flask, member: Any, clock: Clock
) -> None:
    with app.app_context():
        for channel in ("email", "inbox"):
            contacts.record_contact(
                member.id,
                "newsletter",
                channel,
                campaign="c1",
                kind="editorial",
                ref=f"c1-{channel}",
                sent_at=clock(),
            )
        assert contacts.record_engagement("c1-inbox", clock() + timedelta(hours=1), "read")
        assert not contacts.record_engagement("unknown", clock(), "read")
        with pytest.raises(ValueError):
            contacts.record_engagement("c1-inbox", clock(), "glance")
        late = contacts.record_contact(
            member.id,
            "newsletter",
            "email",
            campaign="c1",
            kind="editorial",
            ref="c1-late",
            sent_at=clock(),
        )
        assert late
        db.session.commit()
        rows = db.session.query(Contact).all()
        assert all(r.engaged_at == clock() + timedelta(hours=1) for r in rows)


def test_ignored_campaigns_pause_the_scope_until_the_member_engages_or_resumes(
    app: Flask, member: Any, clock: Clock
) -> None:
    with app.app_context():
        _granted(member, clock)
        for week in (4, 3, 2, 1):
            contacts.record_contact(
                member.id,
                "newsletter",
                "email",
                campaign=f"w{week}",
                kind="editorial",
                ref=f"w{week}",
                sent_at=clock() - timedelta(days=7 * week + 1),
            )
        assert _decide(member.id, "email", clock()) == ("paused",)  # four ignored in a row
        contacts.record_engagement("w3", clock(), "click")
        # Engaged with w3: no longer paused, but w2 and w1 went unread since, so the member
        # rests two slots after w1 (sent 8 days ago): until 9.5 days from now.
        assert _decide(member.id, "email", clock()) == ("resting",)
        ends = clock() + timedelta(days=9, hours=12)
        assert "resting" in _decide(member.id, "email", ends - timedelta(hours=1))
        assert "resting" not in _decide(member.id, "email", ends + timedelta(hours=1))
        contacts.record_engagement("w1", clock(), "click")
        assert _decide(member.id, "email", clock()) == ()  # engaged with the latest
        contacts.record_contact(
            member.id,
            "newsletter",
            "email",
            campaign="w0",
            kind="editorial",
            ref="w0",
            sent_at=clock() - timedelta(days=7),
        )
        assert _decide(member.id, "email", clock()) == ("resting",)  # w0 unread: skip a slot
        contacts.resume_scope(member.id, "newsletter", clock())
        assert _decide(member.id, "email", clock()) == ()


def test_not_for_me_pauses_until_the_member_engages_again(
    app: Flask, member: Any, clock: Clock
) -> None:
    with app.app_context():
        _granted(member, clock)
        contacts.record_contact(
            member.id,
            "newsletter",
            "inbox",
            campaign="c1",
            kind="editorial",
            ref="c1",
            sent_at=clock() - timedelta(days=8),
        )
        contacts.not_for_me(member.id, "newsletter", clock() - timedelta(days=7))
        assert _decide(member.id, "inbox", clock()) == ("paused", "resting")
        contacts.record_engagement("c1", clock() - timedelta(days=7, hours=1), "read")
        assert _decide(member.id, "inbox", clock()) == ("paused",)  # that was before
        contacts.record_engagement("c1", clock() - timedelta(days=1), "useful")
        assert _decide(member.id, "inbox", clock()) == ()


def test_suppressions_stop_email_or_webhook_and_a_new_confirmation_lifts_email(
    app: Flask, member: Any, clock: Clock
) -> None:
    with app.app_context():
        scope = get_scope("offers")
        grant(member.id, scope.reward, "code:spring-store", clock() - timedelta(days=30))
        for channel in ("email", "webhook"):
            consents.grant_consent(
                member.id,
                scope,
                channel,
                scope.wording,
                Origin("preferences"),
                clock() - timedelta(days=30),
            )
        endpoint = webhooks.add_endpoint(
            member.id, "http://127.0.0.1:9/h", clock(), allow_loopback=True
        )
        webhooks.mark_verified(member.id, endpoint.id, clock())
        campaign = Campaign.of(scope)
        assert decide(facts_for(member.id), campaign, member.id, "webhook", clock()).allowed
        assert contacts.record_suppression("http://127.0.0.1:9/h", "endpoint-gone", clock()) == 1
        assert contacts.record_suppression("Reader@Example.com", "complaint", clock()) == 1
        facts = facts_for(member.id)
        assert decide(facts, campaign, member.id, "webhook", clock()).reasons == ("suppressed",)
        assert decide(facts, campaign, member.id, "email", clock()).reasons == ("suppressed",)
        assert decide(facts, campaign, member.id, "inbox", clock()).reasons == ("consented",)
        with pytest.raises(ValueError):
            contacts.record_suppression("reader@example.com", "annoyed", clock())
        contacts.lift_suppression("reader@example.com")
        assert not contacts.is_suppressed("reader@example.com")
