""" "Why did I get this?": every message's link explains it in words and stops it in one click."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.consent.gate import why
from app.consent.ledger import consents
from app.consent.ledger.consents import Origin
from app.consent.scopes import get_scope
from app.extensions import db
from tests.conftest import Clock
from tests.helpers import post_form


def _link(app: Flask, member: Any, clock: Clock, kind: str = "editorial") -> str:
    with app.app_context():
        scope = get_scope("newsletter")
        consents.grant_consent(
            member.id,
            scope,
            "email",
            scope.wording,
            Origin("form:subscribe", "/subscribe/newsletter?from=footer"),
            clock(),
        )
        db.session.commit()
        clock.advance(days=3)
        url = why.why_url(member.id, "newsletter", "email", clock(), kind)
    assert url.startswith("http://localhost/why/")
    return url.removeprefix("http://localhost")


def test_the_page_says_how_it_was_earned_what_was_agreed_and_what_was_promised(
    app: Flask, client: FlaskClient, member: Any, clock: Clock
) -> None:
    page = client.get(_link(app, member, clock)).text
    assert "The weekly letter, by email" in page
    assert "You confirmed your email address on" in page
    assert "you said yes, through the subscription form" in page
    assert "Yes, send me the weekly letter. I can stop it with one click" in page
    assert (
        "We promised: The three best new articles. At most one message a week, on Fridays"
    ) in page
    assert "Stop The weekly letter by email" in page


def test_one_click_on_the_page_stops_it_without_signing_in(
    app: Flask, client: FlaskClient, member: Any, clock: Clock
) -> None:
    link = _link(app, member, clock)
    response = post_form(client, link + "/stop", {}, page=link, follow_redirects=True)
    assert "will not reach you by email any more" in response.text
    assert "You have stopped this." in response.text
    with app.app_context():
        [revoke, _] = consents.history(member.id)
        assert (revoke.action, revoke.source, revoke.page) == ("revoke", "why-page", "/why")


def test_a_message_sent_without_a_yes_on_record_says_so(
    app: Flask, client: FlaskClient, member: Any, clock: Clock
) -> None:
    with app.app_context():
        url = why.why_url(member.id, "newsletter", "email", clock() - timedelta(days=1))
    page = client.get(url.removeprefix("http://localhost")).text
    assert "We find no yes from you for this at that time" in page


def test_no_campaign_is_called_something_you_asked_for(
    app: Flask, client: FlaskClient, member: Any, clock: Clock
) -> None:
    # A link of a campaign sent under the old transactional kind explains the consent behind
    # it like any other: no message composed by a marketer is "not marketing".
    page = client.get(_link(app, member, clock, kind="transactional")).text
    assert "not marketing" not in page and "something you asked for" not in page
    assert "said yes" in page


def test_a_forged_or_altered_link_is_refused(
    app: Flask, client: FlaskClient, member: Any, clock: Clock
) -> None:
    link = _link(app, member, clock)
    assert client.get(link[:-4] + "abcd").status_code == 400
    assert client.get("/why/not-a-token").status_code == 400


def test_the_page_says_how_often_and_when_the_member_gets_it_as_learned(
    app: Flask, client: FlaskClient, member: Any, clock: Clock
) -> None:
    from app.consent.gate import contacts
    from app.engage.actions import record_action

    link = _link(app, member, clock)
    page = client.get(link).text
    assert "How often and when, for you" in page
    assert "so you get all we promised" in page
    assert "We do not know your usual hour yet" in page
    with app.app_context():
        contacts.record_contact(
            member.id,
            "newsletter",
            "email",
            campaign="letter-1",
            kind="editorial",
            ref="letter-1",
            sent_at=clock() - timedelta(days=1),
        )
        for day, slug in enumerate(("a-post", "b-post", "c-post")):
            moment = clock().replace(hour=19) - timedelta(days=day + 2)
            record_action(member.id, f"read:{slug}", moment)
        db.session.commit()
    page = client.get(link).text
    assert "You left the last one unopened, so we skip the next send until" in page
    assert "You usually read around 19:00 (UTC)" in page
    with app.app_context():
        contacts.record_engagement("letter-1", clock(), "click")
        db.session.commit()
    assert "so you get all we promised" in client.get(link).text
    app.config["NOTIFY_LEARNING"] = False
    assert "How often and when, for you" not in client.get(link).text
