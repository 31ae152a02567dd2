"""Double opt-in, end to end with a real SMTP server: request, mail, link, consent, action,
reward; and everything around it: no spam, no leaks, expiry, cache-safe calls to action."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.accounts import members
from app.consent.ledger import subscriptions
from app.consent.models import ConsentEvent, SubscriptionRequest
from app.consent.scopes import get_scope
from app.engage.actions import actions_of
from app.extensions import db
from app.rewards.entitlements import entitlements_of
from app.site.cta import render_cta
from tests.conftest import PASSWORD, REPO, Clock
from tests.consent.pages import confirm, request_subscription, wording_hash
from tests.helpers import SMTPSink, csrf_token, link_in, sign_in, text_body

WORDING = (
    "Yes, send me the weekly letter. I can stop it with one click at any time. At most one "
    "message a week, on Fridays between 08:00 and 18:00 your time."
)


def _events(app: Flask) -> list[ConsentEvent]:
    with app.app_context():
        return list(db.session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)))


def test_double_opt_in_from_the_footer_to_the_reward(
    app: Flask, client: FlaskClient, smtp: SMTPSink, clock: Clock
) -> None:
    home = client.get("/")
    assert 'action="/subscribe/newsletter"' in home.text and 'method="get"' in home.text
    assert "Set-Cookie" not in home.headers  # the cached page starts no session

    page = client.get("/subscribe/newsletter?email=new.reader@example.com&from=footer")
    assert WORDING in page.text and "At most one message a week, on Fridays" in page.text
    assert 'value="new.reader@example.com"' in page.text and " checked" not in page.text
    response = request_subscription(client, "new.reader@example.com")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/subscribe/newsletter/sent")
    assert _events(app) == []
    with app.app_context():
        assert members.find_by_email("new.reader@example.com") is None

    [mail] = smtp.wait_for(1)
    assert mail["To"] == "new.reader@example.com"
    assert mail["Subject"] == "Confirm your subscription: The weekly letter"
    assert mail["Auto-Submitted"] == "auto-generated"
    body = text_body(mail)
    link = link_in(mail, "/subscriptions/confirm/")
    assert re.findall(r"https?://\S+", body) == ["http://localhost" + link]  # nothing else
    assert "Fridays" not in body and "article" not in body.lower()

    clock.advance(minutes=5)
    response = confirm(client, link)
    assert (
        response.status_code == 302
        and "/subscribe/newsletter/welcome" in response.headers["Location"]
    )
    welcome = client.get(response.headers["Location"])
    assert "You are subscribed" in welcome.text and "signed in" in welcome.text
    assert client.get("/me/permissions").status_code == 200  # signed in

    [event] = _events(app)
    assert (event.action, event.scope, event.channel) == ("grant", "newsletter", "email")
    assert event.wording == WORDING and event.wording_version == 1
    assert event.source == "form:subscribe"
    assert event.page == "/subscribe/newsletter?from=footer"
    assert event.at == clock() and event.client_hash
    with app.app_context():
        member = members.find_by_email("new.reader@example.com")
        assert member is not None and member.is_verified and not member.has_password
        assert [a.action for a in actions_of(member.id)] == ["account", "subscribe:newsletter"]
        assert [e.reward for e in entitlements_of(member.id)] == ["scope:newsletter"]

    again = client.get(link)
    assert again.status_code == 400 and "already used" in again.text


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(
    app: Flask, smtp: SMTPSink, member: Any
) -> None:
    answers = []
    for email in ("reader@example.com", "nobody@example.com"):
        client = app.test_client()
        response = request_subscription(client, email)
        followed = client.get(response.headers["Location"])
        answers.append(
            (
                response.status_code,
                response.headers["Location"],
                followed.status_code,
                followed.text,
            )
        )
    assert answers[0] == answers[1]
    mails = smtp.wait_for(2)
    assert text_body(mails[0]).replace("reader@", "x@") == text_body(mails[1]).replace(
        "nobody@", "x@"
    ).replace(link_in(mails[1], "/"), link_in(mails[0], "/"))


def test_the_link_signs_an_existing_member_in_once(
    app: Flask, client: FlaskClient, smtp: SMTPSink, member: Any
) -> None:
    request_subscription(client, "READER@example.com")
    link = link_in(smtp.wait_for(1)[0], "/subscriptions/confirm/")
    browser = app.test_client()
    assert confirm(browser, link).status_code == 302
    page = browser.get("/me/permissions").text
    assert "Robin Reader" in page and "Yes</strong> since" in page
    with app.app_context():
        assert members.count_members() == 1
    assert app.test_client().get(link).status_code == 400


def test_at_most_one_confirmation_mail_per_address_per_ten_minutes(
    app: Flask, client: FlaskClient, smtp: SMTPSink, clock: Clock
) -> None:
    for _ in range(3):
        assert request_subscription(client, "busy@example.com").status_code == 302
        clock.advance(minutes=2)
    smtp.wait_for(1)
    clock.advance(minutes=5)  # eleven minutes after the first
    assert request_subscription(client, "Busy@Example.com").status_code == 302
    assert len(smtp.wait_for(2)) == 2
    assert request_subscription(client, "busy@example.com").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SubscriptionRequest)) == 1
    assert len(smtp.messages) == 2


def test_unconfirmed_requests_expire_after_seven_days(
    app: Flask, client: FlaskClient, smtp: SMTPSink, clock: Clock
) -> None:
    request_subscription(client, "late@example.com")
    link = link_in(smtp.wait_for(1)[0], "/subscriptions/confirm/")
    clock.advance(days=7, minutes=1)
    response = client.get(link)
    assert response.status_code == 400 and "expired" in response.text
    with app.app_context():
        assert subscriptions.purge_requests(clock()) == 1
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(SubscriptionRequest)) == 0
        assert members.find_by_email("late@example.com") is None
    assert _events(app) == []


@pytest.mark.parametrize(
    ("email", "agree", "message"),
    [
        ("someone@example.com", False, "Tick the box to say yes."),
        ("not an address", True, "Enter an email address"),
        ("", True, "Enter your email address."),
    ],
)
def test_bad_requests_get_a_field_message_and_send_nothing(
    app: Flask, client: FlaskClient, smtp: SMTPSink, email: str, agree: bool, message: str
) -> None:
    response = request_subscription(client, email, agree=agree)
    assert response.status_code == 400 and message in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SubscriptionRequest)) == 0
    assert smtp.messages == []


def test_only_scopes_a_visitor_can_earn_by_address_are_subscribable(client: FlaskClient) -> None:
    assert client.get("/subscribe/offers").status_code == 404  # earned by a survey or code
    assert client.get("/subscribe/no-such-scope").status_code == 404
    assert client.get("/subscriptions/confirm/forged-token").status_code == 400


def test_a_signed_in_member_subscribes_with_one_ticked_box(
    app: Flask, client: FlaskClient, smtp: SMTPSink, member: Any
) -> None:
    sign_in(client, "reader@example.com", PASSWORD)
    page = client.get("/subscribe/newsletter?from=article")
    assert "reader@example.com" in page.text and 'name="email"' not in page.text
    hash_ = wording_hash(page.text)
    refused = client.post(
        "/subscribe/newsletter",
        data={"csrf_token": csrf_token(page.text), "wording_hash": hash_, "origin": "article"},
    )
    assert refused.status_code == 400 and _events(app) == []
    response = client.post(
        "/subscribe/newsletter",
        data={
            "csrf_token": csrf_token(page.text),
            "wording_hash": hash_,
            "origin": "article",
            "agree": "y",
        },
    )
    assert response.status_code == 302
    [event] = _events(app)
    assert event.page == "/subscribe/newsletter?from=article" and event.source == "form:subscribe"
    assert "You already get The weekly letter" in client.get("/subscribe/newsletter").text
    assert smtp.messages == []


def test_calls_to_action_for_visitors_are_get_forms_and_for_members_unticked_opt_ins(
    app: Flask, clock: Clock
) -> None:
    with app.test_request_context("/posts/why-pull-wins/"):
        html = str(render_cta("scope:newsletter", "article"))
        assert 'method="get"' in html and 'action="/subscribe/newsletter"' in html
        assert 'name="from" value="article"' in html and "csrf_token" not in html
        assert str(render_cta("scope:offers", "article")) == ""  # not for visitors
    with app.app_context():
        member = members.create_member("m@example.com", None, now=clock(), verified=True)
        db.session.commit()
    from flask_login import login_user

    from app.accounts.sessions import start_sign_in

    with app.test_request_context("/posts/why-pull-wins/"):
        start_sign_in(member, "test", clock())
        login_user(member)
        html = str(render_cta("scope:newsletter", "article"))
        assert 'method="post"' in html and 'name="agree"' in html and "checked" not in html
        assert WORDING in html and 'name="origin" value="cta"' in html
        assert str(render_cta("scope:offers", "article")) == ""  # not earned


SCOPES_WITH_DIGEST = """
[digest]
title = "The monthly digest"
about = "the best of the month"
consent_text = "Yes, send me the monthly digest."
consent_version = 1
channels = ["email"]
earned_by = ["subscribe:digest"]
kind = "editorial"
max_per_week = 1
"""


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    content = tmp_path / "content"
    content.mkdir()
    (content / "site.toml").write_text((REPO / "content/site.toml").read_text())
    (content / "scopes.toml").write_text(
        (REPO / "content/scopes.toml").read_text() + SCOPES_WITH_DIGEST
    )
    app_config["CONTENT_DIR"] = str(content)
    return app_config


def test_a_scope_earned_by_subscribing_is_earned_by_the_confirmation(
    app: Flask, client: FlaskClient, smtp: SMTPSink
) -> None:
    request_subscription(client, "digest@example.com", scope="digest", origin="home")
    confirm(client, link_in(smtp.wait_for(1)[0], "/subscriptions/confirm/"))
    with app.app_context():
        member = members.find_by_email("digest@example.com")
        assert member is not None
        earned = {e.reward: e.earned_by for e in entitlements_of(member.id)}
        assert earned["scope:digest"] == "subscribe:digest"
    [event] = _events(app)
    assert (event.scope, event.wording) == (
        "digest",
        "Yes, send me the monthly digest. At most one message a week.",
    )


def test_new_wording_between_request_and_confirmation_is_shown_and_recorded(
    app: Flask, client: FlaskClient, smtp: SMTPSink
) -> None:
    request_subscription(client, "change@example.com", scope="digest")
    link = link_in(smtp.wait_for(1)[0], "/subscriptions/confirm/")
    scopes_file = Path(app.config["CONTENT_DIR"]) / "scopes.toml"
    scopes_file.write_text(
        scopes_file.read_text().replace(
            'consent_text = "Yes, send me the monthly digest."\nconsent_version = 1',
            'consent_text = "Yes, send me the monthly digest and its quiz."\nconsent_version = 2',
        )
    )
    page = client.get(link)
    assert "The wording changed since you asked" in page.text and "its quiz" in page.text
    assert confirm(client, link).status_code == 302
    [event] = _events(app)
    assert event.wording == (
        "Yes, send me the monthly digest and its quiz. At most one message a week."
    )
    assert event.wording_version == 2
    with app.app_context():
        assert get_scope("digest").consent_version == 2


def test_concurrent_clicks_on_one_link_confirm_once(
    app: Flask, client: FlaskClient, smtp: SMTPSink, clock: Clock
) -> None:
    import threading

    from app import signing
    from app.consent.ledger.consents import Origin

    request_subscription(client, "twice@example.com")
    token = link_in(smtp.wait_for(1)[0], "/subscriptions/confirm/").rsplit("/", 1)[1]
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def click() -> None:
        with app.app_context():
            barrier.wait()
            try:
                subscriptions.confirm_subscription(
                    token, WORDING, Origin("form:subscribe"), clock()
                )
                db.session.commit()
                outcomes.append("confirmed")
            except signing.TokenUsed:
                db.session.rollback()
                outcomes.append("used")

    threads = [threading.Thread(target=click) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["confirmed"] + ["used"] * 5
    assert len(_events(app)) == 1
    with app.app_context():
        assert members.count_members() == 1
