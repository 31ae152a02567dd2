"""The ``push`` channel end to end: a campaign on ``new-stickers`` sent by the real worker
reaches the member's browsers through the local push service (:mod:`tests.push.service`),
VAPID-signed and encrypted to each browser's keys, with a payload of the title, the start of
the text, where a click leads (the campaign's first link, tracked, or the message in the inbox)
and a tag per delivery. A browser that turned notifications off (410) is disabled while another
still gets the message; with every browser gone the delivery is dead, every ``push`` yes of
the member is revoked in the ledger and the gate says ``suppressed``; a push service that
answers 503 gets the message on a later run."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.outbound.webpush import Subscription
from tests.conftest import Clock
from tests.consent import world
from tests.notify import rows
from tests.push.service import PushService

TITLE = "Spring birds are out"
LINKED = "A new pack of twelve birds. [See the pack](https://example.org/packs/spring-birds) now."
PLAIN = "A new pack of twelve birds is in your sticker shelf."


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """The tests' content, with the weekly letter offered as browser notifications too (so a
    member can hold two ``push`` permissions)."""
    content = tmp_path / "content"
    shutil.copytree(app_config["CONTENT_DIR"], content)
    scopes = content / "scopes.toml"
    text = scopes.read_text(encoding="utf-8")
    old = 'channels = ["email", "inbox", "telegram"]'
    assert old in text
    scopes.write_text(text.replace(old, 'channels = ["email", "inbox", "telegram", "push"]', 1))
    return {**app_config, "CONTENT_DIR": str(content)}


@pytest.fixture
def service() -> Iterator[PushService]:
    with PushService() as running:
        yield running
    assert not running.errors, running.errors


@dataclass
class Reader:
    member_id: int
    browsers: list[Subscription]


def reader(app: Flask, clock: Clock, service: PushService, browsers: int = 1) -> Reader:
    """A member who earned ``new-stickers`` and said yes to it a week ago as browser
    notifications (and by email), with ``browsers`` subscriptions at the local service."""
    from app.consent import push
    from app.extensions import db

    week_ago = clock() - timedelta(days=7)
    made = [service.subscribe()[0] for _ in range(browsers)]
    with app.app_context():
        member = world.add_member(1, week_ago)
        world.earn(member.id, "new-stickers", week_ago)
        for channel in ("push", "email"):
            world.consent(member.id, "new-stickers", channel, granted=True, version=1, at=week_ago)
        for n, subscription in enumerate(made):
            push.subscribe(member.id, subscription, f"browser {n}", week_ago)
        db.session.commit()
        return Reader(member.id, made)


def send_campaign(app: Flask, clock: Clock, body: str = LINKED) -> int:
    return rows.send_campaign(app, clock(), TITLE, body, "new-stickers", ("push",), "editorial")


def work(app: Flask) -> Counter[str]:
    return rows.work_once(app)


def delivery(app: Flask, campaign_id: int) -> Any:
    return rows.only_delivery(app, campaign_id)


def browsers_of(app: Flask, member_id: int) -> list[Any]:
    from app.consent import push
    from app.extensions import db

    with app.app_context():
        rows = push.subscriptions_of(member_id)
        for row in rows:
            db.session.expunge(row)
        return rows


def endpoint_id(subscription: Subscription) -> str:
    return subscription.endpoint.rsplit("/", 1)[-1]


def test_a_campaign_reaches_the_browser_signed_encrypted_and_tracked(
    app: Flask, clock: Clock, service: PushService
) -> None:
    from app.consent import push

    member = reader(app, clock, service)
    campaign_id = send_campaign(app, clock)
    assert work(app)["sent"] == 1
    (message,) = service.wait_for(1)
    row = delivery(app, campaign_id)
    assert (row.channel, row.state, row.attempts) == ("push", "sent", 1)
    assert row.message_id == f"delivery-{row.id}"
    assert message.endpoint_id == endpoint_id(member.browsers[0])
    with app.app_context():
        assert message.vapid_key == push.keys().public_key  # signed with the site's key
    assert message.claims["aud"] == service.origin
    assert message.claims["sub"] == "mailto:hello@pullfirst.example"
    assert message.headers["content-encoding"] == "aes128gcm"  # decrypted by the service
    assert message.headers["ttl"] == str(2 * 24 * 3600)
    assert message.headers["topic"] == f"d{row.id}"
    payload = message.payload
    assert set(payload) == {"title", "body", "url", "tag"}
    assert payload["title"] == TITLE and payload["tag"] == f"delivery-{row.id}"
    assert payload["body"].startswith("A new pack of twelve birds.")
    assert "[" not in payload["body"] and "](" not in payload["body"]
    assert payload["url"].startswith("http://localhost/t/")
    click = app.test_client().get(payload["url"].removeprefix("http://localhost"))
    assert click.status_code == 302
    assert click.headers["Location"] == "https://example.org/packs/spring-birds"
    assert delivery(app, campaign_id).clicked_at is not None


def test_without_a_link_the_notification_opens_the_message_in_the_inbox(
    app: Flask, clock: Clock, service: PushService
) -> None:
    from app.web.urls import external_url

    reader(app, clock, service)
    campaign_id = send_campaign(app, clock, body=PLAIN)
    work(app)
    (message,) = service.wait_for(1)
    row = delivery(app, campaign_id)
    with app.app_context():
        inbox = external_url("notify.message", delivery_id=row.id)
    assert message.payload["url"] == inbox and inbox.startswith("http://localhost/")
    assert message.payload["body"] == PLAIN


def test_a_long_text_is_cut_at_a_word_for_the_notification(
    app: Flask, clock: Clock, service: PushService
) -> None:
    reader(app, clock, service)
    send_campaign(app, clock, body="Birds " * 60)
    work(app)
    (message,) = service.wait_for(1)
    body = message.payload["body"]
    assert len(body) <= 140 and body.endswith("Birds\u2026")


def test_every_browser_of_the_member_gets_the_same_notification(
    app: Flask, clock: Clock, service: PushService
) -> None:
    member = reader(app, clock, service, browsers=2)
    campaign_id = send_campaign(app, clock)
    assert work(app)["sent"] == 1
    messages = service.wait_for(2)
    assert {m.endpoint_id for m in messages} == {endpoint_id(b) for b in member.browsers}
    tag = f"delivery-{delivery(app, campaign_id).id}"
    assert [m.payload["tag"] for m in messages] == [tag, tag]


def test_a_browser_that_turned_notifications_off_is_disabled_while_the_other_gets_it(
    app: Flask, clock: Clock, service: PushService
) -> None:
    from app.consent.ledger.consents import states_of

    member = reader(app, clock, service, browsers=2)
    gone, fine = member.browsers
    service.unsubscribe(gone.endpoint)
    campaign_id = send_campaign(app, clock)
    assert work(app)["sent"] == 1
    (message,) = service.wait_for(1)
    assert message.endpoint_id == endpoint_id(fine)
    assert [r.status for r in service.refusals] == [410]
    assert delivery(app, campaign_id).state == "sent"
    rows = {row.endpoint: row for row in browsers_of(app, member.member_id)}
    assert rows[gone.endpoint].disabled_at == clock()
    assert rows[fine.endpoint].disabled_at is None
    with app.app_context():
        assert states_of(member.member_id)[("new-stickers", "push")].granted


def test_with_every_browser_gone_the_delivery_is_dead_and_every_push_yes_revoked(
    app: Flask, clock: Clock, service: PushService
) -> None:
    from app.consent import push
    from app.consent.gate.facts import facts_for
    from app.consent.gate.rules import Campaign, decide
    from app.consent.ledger.consents import history, states_of
    from app.consent.scopes import get_scope
    from app.consent.terms import Channel
    from app.extensions import db

    member = reader(app, clock, service, browsers=2)
    with app.app_context():
        world.consent(
            member.member_id,
            "newsletter",
            "push",
            granted=True,
            version=1,
            at=clock() - timedelta(days=7),
        )
        db.session.commit()
    for browser in member.browsers:
        service.unsubscribe(browser.endpoint)
    campaign_id = send_campaign(app, clock)
    assert work(app)["dead"] == 1
    assert service.messages == [] and [r.status for r in service.refusals] == [410, 410]
    row = delivery(app, campaign_id)
    assert (row.state, row.reason) == ("dead", "endpoint-gone")
    assert all(b.disabled_at is not None for b in browsers_of(app, member.member_id))
    with app.app_context():
        states = states_of(member.member_id)
        assert not states[("new-stickers", "push")].granted
        assert not states[("newsletter", "push")].granted
        assert states[("new-stickers", "email")].granted  # other channels stand
        revokes = [e for e in history(member.member_id) if e.action == "revoke"]
        assert {(e.scope, e.channel) for e in revokes} == {
            ("new-stickers", "push"),
            ("newsletter", "push"),
        }
        assert all(e.wording == push.GONE_WORDS and e.source == "push" for e in revokes)
        decision = decide(
            facts_for(member.member_id),
            Campaign.of(get_scope("new-stickers")),
            member.member_id,
            Channel.PUSH,
            clock(),
        )
        assert not decision.allowed and "suppressed" in decision.reasons
    clock.advance(days=8)
    later = send_campaign(app, clock)
    work(app)
    with app.app_context():
        from app.notify.models import Delivery

        queued = db.session.scalars(select(Delivery).where(Delivery.campaign_id == later)).all()
    assert queued == [] and service.messages == []  # nobody left to notify


def test_a_503_from_the_push_service_is_retried_and_a_later_run_sends_it(
    app: Flask, clock: Clock, service: PushService
) -> None:
    reader(app, clock, service)
    service.fail_next(503)
    campaign_id = send_campaign(app, clock)
    assert work(app) == Counter({"retry": 1})
    row = delivery(app, campaign_id)
    assert (row.state, row.attempts) == ("retry", 1)
    assert row.due_at > clock() and "503" in (row.last_error or "")
    assert service.messages == [] and [r.status for r in service.refusals] == [503]
    assert work(app)["sent"] == 0  # not due yet
    clock.advance(minutes=2)
    assert work(app)["sent"] == 1
    (message,) = service.wait_for(1)
    row = delivery(app, campaign_id)
    assert (row.state, row.attempts) == ("sent", 2)
    assert message.payload["tag"] == f"delivery-{row.id}"  # the same notification, not a new one


def test_a_push_service_that_refuses_the_message_for_good_kills_the_delivery(
    app: Flask, clock: Clock, service: PushService
) -> None:
    member = reader(app, clock, service)
    service.fail_next(400)
    campaign_id = send_campaign(app, clock)
    work(app)
    row = delivery(app, campaign_id)
    assert (row.state, row.reason) == ("dead", "refused")
    assert browsers_of(app, member.member_id)[0].disabled_at is None  # not gone, only refused


def test_a_short_text_with_a_link_is_shown_whole_in_the_notification(
    app: Flask, clock: Clock, service: PushService
) -> None:
    reader(app, clock, service)
    send_campaign(
        app,
        clock,
        body="[Twelve new birds](https://example.org/p) are out: robins, wrens and more.",
    )
    work(app)
    (message,) = service.wait_for(1)
    body = message.payload["body"]
    assert body.startswith("Twelve new birds") and body.endswith("robins, wrens and more.")
    assert "http" not in body
