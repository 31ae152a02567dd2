"""The inbox: unread count in the header, reading counts as engagement, "useful", "not for me"
(pauses the scope, offers a one-click stop), replies and the marketers' answers, and no member
can open another's messages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import PASSWORD, Clock
from tests.consent import world
from tests.helpers import csrf_token, post_form, sign_in


@pytest.fixture
def reader(app: Flask, member: Any, clock: Clock) -> int:
    from app.extensions import db

    at = clock() - timedelta(days=7)
    with app.app_context():
        world.consent(member.id, "newsletter", "inbox", granted=True, version=1, at=at)
        world.consent(member.id, "newsletter", "email", granted=True, version=1, at=at)
        db.session.commit()
    return int(member.id)


@pytest.fixture
def delivered(app: Flask, reader: int, campaign: Callable[..., int], work: Callable) -> int:
    from app.extensions import db
    from app.notify.models import Delivery

    campaign(channels=("inbox",), title="Letter one")
    assert work()["sent"] == 1
    with app.app_context():
        found = db.session.scalar(select(Delivery.id).where(Delivery.member_id == reader))
        assert found is not None
        return found


def signed_in(app: Flask, email: str = "reader@example.com") -> FlaskClient:
    client = app.test_client()
    sign_in(client, email, PASSWORD)
    return client


def test_unread_count_and_reading(app: Flask, delivered: int) -> None:
    from app.consent.models import Contact
    from app.extensions import db

    client = signed_in(app)
    assert re.search(r"Inbox\s*<span[^>]*>2<", client.get("/").text), "a message, a notice"
    client.get("/notices/signed-receipts")  # the demo's notice, opened: no longer counted
    home = client.get("/inbox").get_data(as_text=True)
    assert re.search(r"Inbox\s*<span[^>]*>1<", home), "the header shows one unread message"
    assert "Letter one" in home
    page = client.get(f"/inbox/{delivered}")
    assert page.status_code == 200
    assert 'href="http://localhost/t/' in page.get_data(as_text=True)
    after = client.get("/inbox").get_data(as_text=True)
    assert not re.search(r"Inbox\s*<span[^>]*>1<", after)
    with app.app_context():
        contact = db.session.scalar(select(Contact))
        assert contact is not None and contact.engaged_how == "read"


def test_not_for_me_pauses_and_offers_a_stop(
    app: Flask,
    delivered: int,
    reader: int,
    campaign: Callable[..., int],
    work: Callable,
    clock: Clock,
) -> None:
    from app.consent.models import ConsentState, ScopePause
    from app.extensions import db

    client = signed_in(app)
    url = f"/inbox/{delivered}"
    response = post_form(client, f"{url}/not-for-me", {}, page=url)
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Stop these messages" in page
    with app.app_context():
        pause = db.session.get(ScopePause, (reader, "newsletter"))
        assert pause is not None and pause.not_for_me_at is not None
    clock.advance(days=8)
    second = campaign(channels=("inbox",), title="Letter two")
    assert sum(work().values()) == 0, "the gate pauses the scope after 'not for me'"
    with app.app_context():
        from app.notify.campaigns import audience_counts, get_campaign

        recorded = audience_counts(get_campaign(second))  # type: ignore[arg-type]
        assert recorded["inbox"]["excluded"] == {"paused": 1}
    post_form(client, f"{url}/stop", {}, page=url)
    with app.app_context():
        states = db.session.scalars(select(ConsentState).where(ConsentState.member_id == reader))
        assert {(s.channel, s.granted) for s in states} == {("inbox", False), ("email", False)}


def test_useful_counts_as_engagement(app: Flask, delivered: int) -> None:
    from app.extensions import db
    from app.notify.models import Delivery

    client = signed_in(app)
    post_form(client, f"/inbox/{delivered}/useful", {}, page=f"/inbox/{delivered}")
    with app.app_context():
        row = db.session.get(Delivery, delivered)
        assert row is not None and row.useful_at is not None


def test_reply_then_marketer_answers_in_the_inbox(
    app: Flask, delivered: int, marketer: str, clock: Clock
) -> None:
    member = signed_in(app)
    url = f"/inbox/{delivered}"
    text = "Could you write about <script>alert(1)</script> birds?"
    assert post_form(member, f"{url}/reply", {"body": text}, page=url).status_code == 302
    team = signed_in(app, marketer)
    listing = team.get("/admin/conversations/").get_data(as_text=True)
    assert "reader@example.com" in listing and "waiting for an answer" in listing
    thread_url = re.search(r'href="(/admin/conversations/\d+/\d+)"', listing)
    assert thread_url is not None
    thread = team.get(thread_url.group(1)).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in thread and "<script>alert" not in thread
    clock.advance(minutes=5)
    answer = post_form(team, thread_url.group(1), {"body": "Yes, next week."})
    assert answer.status_code == 302
    inbox = member.get("/inbox").get_data(as_text=True)
    assert "1 new answer" in inbox
    page = member.get(url).get_data(as_text=True)
    assert "Yes, next week." in page and "The team" in page
    assert "1 new answer" not in member.get("/inbox").get_data(as_text=True)
    campaign_page = team.get("/admin/campaigns/1").get_data(as_text=True)
    assert '<th scope="row">replied</th><td>1</td><td>100%</td>' in campaign_page


def test_empty_or_overlong_replies_are_refused(app: Flask, delivered: int) -> None:
    from app.extensions import db
    from app.notify.models import Reply

    client = signed_in(app)
    url = f"/inbox/{delivered}"
    for body in ("   ", "x" * 4001, "bell\x07"):
        response = post_form(
            client, f"{url}/reply", {"body": body}, page=url, follow_redirects=True
        )
        assert response.status_code == 200
        assert 'class="flash flash-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Reply)) is None


def test_another_member_cannot_open_or_act_on_the_message(
    app: Flask, delivered: int, clock: Clock
) -> None:
    from app.accounts import members
    from app.extensions import db
    from app.notify.models import Delivery

    with app.app_context():
        members.create_member("other@example.com", PASSWORD, now=clock(), verified=True)
        db.session.commit()
    other = signed_in(app, "other@example.com")
    url = f"/inbox/{delivered}"
    assert other.get(url).status_code == 404
    token = csrf_token(other.get("/inbox").get_data(as_text=True))
    for action in ("useful", "not-for-me", "stop", "reply"):
        response = other.post(f"{url}/{action}", data={"csrf_token": token, "body": "hi"})
        assert response.status_code == 404
    with app.app_context():
        row = db.session.get(Delivery, delivered)
        assert row is not None
        assert (row.read_at, row.useful_at, row.not_for_me_at, row.replied_at) == (
            None,
            None,
            None,
            None,
        )
    assert app.test_client().get(url).status_code == 302  # visitors are sent to sign in
