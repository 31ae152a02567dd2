"""Each of the eight events reaches a registered endpoint when its cause happens, signed the
Standard Webhooks way, with the data the README lists; a cause that rolls back sends nothing;
an endpoint subscribed to some events gets only those."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.api.hooks_fixtures import Crm, deliver, log, register
from tests.conftest import PASSWORD, Clock
from tests.notify.crowd import add_crowd


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["WEBHOOK_ALLOW_LOOPBACK"] = True
    return app_config


def _new_member(app: Flask, clock: Clock, email: str = "robin@example.com") -> int:
    """A member who signed up and has not confirmed yet."""
    from app.accounts import members
    from app.extensions import db

    with app.app_context():
        created = members.create_member(email, PASSWORD, now=clock(), display_name="Robin")
        db.session.commit()
        return int(created.id)


def _confirm(app: Flask, clock: Clock, member_id: int) -> None:
    from app.accounts import members
    from app.extensions import db

    with app.app_context():
        member = members.get_member(member_id)
        assert member is not None
        members.mark_verified(member, clock())
        db.session.commit()


def _grant(app: Flask, clock: Clock, member_id: int, channel: str = "email") -> None:
    from app.consent.ledger.consents import Origin, grant_consent
    from app.consent.scopes import get_scope
    from app.extensions import db

    with app.app_context():
        scope = get_scope("newsletter")
        grant_consent(
            member_id, scope, channel, scope.wording_for(channel), Origin("form:test"), clock()
        )
        db.session.commit()


def _revoke(app: Flask, clock: Clock, member_id: int, channel: str = "email") -> None:
    from app.consent.ledger.consents import Origin, revoke_consent
    from app.extensions import db

    with app.app_context():
        revoke_consent(
            member_id,
            "newsletter",
            channel,
            Origin("preferences"),
            clock(),
            wording="Stop the weekly letter by email.",
        )
        db.session.commit()


def _send_campaign(app: Flask, clock: Clock, scope: str, channel: str) -> int:
    from app.extensions import db
    from app.notify.campaigns import Draft, create_campaign, send_now
    from app.notify.worker import Worker

    kind = "promotional" if scope == "offers" else "editorial"
    with app.app_context():
        created = create_campaign(
            Draft("Three articles", "Hello there.", scope, kind, (channel,)), None, clock()
        )
        send_now(created, clock())
        db.session.commit()
        campaign_id = int(created.id)
        Worker(name="test-worker").run(once=True)
    return campaign_id


def _only(crm: Crm, event_type: str) -> dict[str, Any]:
    [found] = crm.of_type(event_type)
    assert found.verified
    return found.data


def test_confirming_an_address_sends_member_confirmed_action_and_reward(
    app: Flask, clock: Clock
) -> None:
    from app.outbound.signing import new_secret, verify_signature

    with Crm(clock) as crm:
        endpoint_id = register(app, clock, crm)
        member_id = _new_member(app, clock)
        assert log(app) == []  # signing up is not an event; confirming is
        clock.advance(minutes=3)
        _confirm(app, clock, member_id)
        assert deliver(app) == {"sent": 3}
    assert sorted(crm.types()) == ["action.recorded", "member.confirmed", "reward.earned"]
    assert all(r.verified for r in crm.received)
    member = {"id": member_id, "email": "robin@example.com", "name": "Robin"}
    confirmed = crm.of_type("member.confirmed")[0]
    assert confirmed.data == {"member": member, "confirmed_at": clock().isoformat()}
    assert confirmed.message["timestamp"] == clock().isoformat()
    assert confirmed.headers["webhook-id"].startswith("msg_")
    assert confirmed.headers["content-type"] == "application/json"
    assert _only(crm, "action.recorded") == {
        "member": member,
        "action": "account",
        "kind": "account",
        "ref": None,
        "recorded_at": clock().isoformat(),
    }
    assert _only(crm, "reward.earned") == {
        "member": member,
        "reward": "scope:newsletter",
        "kind": "scope",
        "ref": "newsletter",
        "earned_by": "account",
        "earned_at": clock().isoformat(),
    }
    # What makes the check worth something: another secret, a changed body or an old
    # message fail it.
    assert not verify_signature(new_secret(), confirmed.headers, confirmed.body, clock())
    changed = confirmed.body.replace(b"robin", b"r0bin")
    assert not verify_signature(crm.secrets[0], confirmed.headers, changed, clock())
    late = clock() + timedelta(minutes=6)
    assert not verify_signature(crm.secrets[0], confirmed.headers, confirmed.body, late)
    assert {row.state for row in log(app, endpoint_id)} == {"sent"}


def test_a_yes_and_a_no_send_consent_granted_and_revoked_with_their_receipts(
    app: Flask, clock: Clock
) -> None:
    from app.consent.models import ConsentEvent
    from app.extensions import db

    member_id = _new_member(app, clock)
    _confirm(app, clock, member_id)
    with Crm(clock) as crm:
        register(app, clock, crm)
        _grant(app, clock, member_id)
        clock.advance(days=2)
        _revoke(app, clock, member_id)
        assert deliver(app) == {"sent": 2}
    with app.app_context():
        receipts = {
            e.action: e.receipt
            for e in db.session.scalars(
                select(ConsentEvent).where(ConsentEvent.scope == "newsletter")
            )
        }
    granted, revoked = _only(crm, "consent.granted"), _only(crm, "consent.revoked")
    assert granted == {
        "member": {"id": member_id, "email": "robin@example.com", "name": "Robin"},
        "scope": "newsletter",
        "channel": "email",
        "source": "form:test",
        "receipt": receipts["grant"],
        "granted_at": (clock() - timedelta(days=2)).isoformat(),
    }
    assert revoked["receipt"] == receipts["revoke"] != receipts["grant"]
    assert (revoked["scope"], revoked["channel"], revoked["source"]) == (
        "newsletter",
        "email",
        "preferences",
    )
    assert revoked["revoked_at"] == clock().isoformat()
    assert crm.types() == ["consent.granted", "consent.revoked"]  # in the order they happened


def test_a_sent_message_and_the_members_reply_send_delivery_sent_and_reply_received(
    app: Flask, clock: Clock
) -> None:
    from app.extensions import db
    from app.notify.conversation import reply
    from app.notify.models import Delivery

    crowd = add_crowd(app, 1, clock(), scope="newsletter", channels=("email",))
    [member_id] = crowd.ids
    with Crm(clock) as crm:
        register(app, clock, crm, events=["delivery.sent", "reply.received"])
        campaign_id = _send_campaign(app, clock, "newsletter", "email")
        with app.app_context():
            delivery = db.session.scalars(select(Delivery)).one()
            assert delivery.state == "sent"
            reply(delivery, "Thanks, more of the second one please.", clock())
            db.session.commit()
            delivery_id, message_id = delivery.id, delivery.message_id
        deliver(app)
    member = {"id": member_id, "email": crowd.emails[member_id], "name": None}
    campaign = {"id": campaign_id, "title": "Three articles", "scope": "newsletter"}
    sent = _only(crm, "delivery.sent")
    assert sent == {
        "member": member,
        "delivery": delivery_id,
        "campaign": {**campaign, "kind": "editorial"},
        "channel": "email",
        "message_id": message_id,
        "sent_at": sent["sent_at"],
    }
    replied = _only(crm, "reply.received")
    assert replied["text"] == "Thanks, more of the second one please."
    assert (replied["delivery"], replied["channel"], replied["member"]) == (
        delivery_id,
        "email",
        member,
    )
    assert replied["campaign"]["id"] == campaign_id


def test_a_message_given_up_for_good_sends_delivery_failed(app: Flask, clock: Clock) -> None:
    """The member's own webhook answers 410 Gone: the delivery goes to the dead letter."""
    from app.consent.models import WebhookEndpoint
    from app.extensions import db
    from app.outbound.signing import new_secret

    [member_id] = add_crowd(app, 1, clock(), scope="offers", channels=("webhook",)).ids
    with Crm(clock) as crm, Crm(clock, answers=["410"]) as members_own:
        with app.app_context():
            db.session.add(
                WebhookEndpoint(
                    member_id=member_id,
                    url=members_own.url,
                    secret=new_secret(),
                    created_at=clock() - timedelta(days=7),
                    verified_at=clock() - timedelta(days=7),
                )
            )
            db.session.commit()
        register(app, clock, crm, events=["delivery.failed"])
        campaign_id = _send_campaign(app, clock, "offers", "webhook")
        deliver(app)
    failed = _only(crm, "delivery.failed")
    assert failed["member"]["id"] == member_id
    assert failed["campaign"]["id"] == campaign_id and failed["campaign"]["kind"] == "promotional"
    assert (failed["channel"], failed["reason"]) == ("webhook", "endpoint-gone")
    assert "410" in failed["error"]
    assert len(members_own.received) == 1


def test_a_cause_that_rolls_back_queues_and_sends_nothing(app: Flask, clock: Clock) -> None:
    from app.api.hook_models import EventDelivery
    from app.consent.ledger.consents import Origin, grant_consent
    from app.consent.scopes import get_scope
    from app.extensions import db

    member_id = _new_member(app, clock)
    _confirm(app, clock, member_id)
    with Crm(clock) as crm:
        register(app, clock, crm)
        with app.app_context():
            scope = get_scope("newsletter")
            event = grant_consent(
                member_id, scope, "email", scope.wording_for("email"), Origin("form:x"), clock()
            )
            assert event is not None
            queued = db.session.scalars(select(EventDelivery)).all()
            assert [row.event_type for row in queued] == ["consent.granted"]  # in this transaction
            db.session.rollback()
        assert log(app) == []
        assert deliver(app) == {}
        _grant(app, clock, member_id)  # the same yes, committed this time
        assert deliver(app) == {"sent": 1}
    assert crm.types() == ["consent.granted"]


def test_an_endpoint_subscribed_to_some_events_gets_only_those(app: Flask, clock: Clock) -> None:
    member_id = _new_member(app, clock)
    with Crm(clock) as everything, Crm(clock) as stops:
        register(app, clock, everything)
        register(app, clock, stops, events=["consent.revoked"])
        _confirm(app, clock, member_id)
        _grant(app, clock, member_id)
        _revoke(app, clock, member_id)
        deliver(app)
    assert stops.types() == ["consent.revoked"]
    assert sorted(everything.types()) == [
        "action.recorded",
        "consent.granted",
        "consent.revoked",
        "member.confirmed",
        "reward.earned",
    ]
    # One event, one message id, whichever endpoints get it.
    [for_everything] = everything.of_type("consent.revoked")
    assert for_everything.headers["webhook-id"] == stops.received[0].headers["webhook-id"]
    assert for_everything.body == stops.received[0].body


def test_a_disabled_endpoint_gets_no_new_events(app: Flask, clock: Clock) -> None:
    from app.api import hooks
    from app.extensions import db

    member_id = _new_member(app, clock)
    with Crm(clock) as crm:
        endpoint_id = register(app, clock, crm)
        with app.app_context():
            found = hooks.get_endpoint(endpoint_id)
            assert found is not None
            hooks.disable_endpoint(found, "Disabled by a test.", clock())
            db.session.commit()
        _confirm(app, clock, member_id)
        assert log(app) == []
        assert deliver(app) == {}
    assert crm.received == []


def test_an_idle_worker_sends_events_within_a_poll_and_leaves_other_chores_to_the_tick(
    app: Flask, clock: Clock
) -> None:
    from app.notify.chores import register_chore
    from app.notify.worker import Worker

    ticked: list[object] = []
    register_chore(app, "on the tick only", ticked.append)
    with Crm(clock) as crm:
        register(app, clock, crm, ["member.confirmed"])
        with app.app_context():
            worker = Worker(name="idle-worker")
            assert worker.tick(force=True) and len(ticked) == 1  # the next tick is 30 s away
        _confirm(app, clock, _new_member(app, clock))
        assert [row.state for row in log(app)] == ["pending"]
        with app.app_context():
            assert not worker.tick()  # not yet
            worker.run(once=True)  # nothing to deliver: the prompt chores run, then it waits
        assert crm.types() == ["member.confirmed"]
        assert [row.state for row in log(app)] == ["sent"]
        assert len(ticked) == 1  # an ordinary chore waits for the tick
