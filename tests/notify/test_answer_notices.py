"""When the team answers a member's reply, the member gets one short email that says so, with a
link to the conversation, in their own time zone, through the real SMTP sink; an SMTP outage
delays it and loses nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.accounts import members
from tests.conftest import PASSWORD, Clock
from tests.consent import world
from tests.helpers import SMTPSink, free_port, link_in, post_form, sign_in, text_body
from tests.notify.workers import sink_on

ANSWER = "Yes, a piece on garden birds comes out next week."


@pytest.fixture
def delivered(
    app: Flask, member: Any, clock: Clock, campaign: Callable[..., int], work: Callable
) -> int:
    """A message in the reader's inbox, with the reader in Paris."""
    from app.extensions import db
    from app.notify.models import Delivery

    at = clock() - timedelta(days=7)
    with app.app_context():
        found = members.get_member(member.id)
        assert found is not None
        members.update_profile(found, found.display_name, "Europe/Paris")
        world.consent(member.id, "newsletter", "inbox", granted=True, version=1, at=at)
        db.session.commit()
    campaign(channels=("inbox",), title="Letter one")
    assert work()["sent"] == 1
    with app.app_context():
        delivery = db.session.scalar(select(Delivery.id).where(Delivery.member_id == member.id))
        assert delivery is not None
        return delivery


def _client(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, email, PASSWORD)
    return client


def _answer(app: Flask, delivered: int, marketer: str) -> str:
    """The reader replies in the inbox; the marketer answers. Returns the flash shown."""
    reader = _client(app, "reader@example.com")
    url = f"/inbox/{delivered}"
    assert post_form(reader, f"{url}/reply", {"body": "Birds, please?"}, page=url).status_code
    team = _client(app, marketer)
    listing = team.get("/admin/conversations/").text
    thread = re.search(r'href="(/admin/conversations/\d+/\d+)"', listing)
    assert thread is not None
    answered = post_form(team, thread.group(1), {"body": ANSWER}, follow_redirects=True)
    assert answered.status_code == 200
    flash = re.search(r'class="flash[^"]*"[^>]*>(.*?)<', answered.text, re.S)
    return flash.group(1).strip() if flash else answered.text


def _notices(app: Flask) -> list[Any]:
    from app.extensions import db
    from app.notify.models import AnswerNotice

    with app.app_context():
        rows = list(db.session.scalars(select(AnswerNotice)))
        db.session.expunge_all()
        return rows


def test_the_member_gets_one_email_that_points_to_the_answer(
    app: Flask, delivered: int, marketer: str, smtp: SMTPSink, work: Callable, clock: Clock
) -> None:
    flash = _answer(app, delivered, marketer)
    assert "an email tells them" in flash
    [mail] = smtp.wait_for(1)
    assert mail["To"].addresses[0].addr_spec == "reader@example.com"
    assert mail["Subject"] == "The team answered your reply about “Letter one”"
    assert mail["Auto-Submitted"] == "auto-generated"
    body = text_body(mail)
    assert link_in(mail, "/inbox/") == f"/inbox/{delivered}"
    assert ANSWER not in body  # a system message carries no free text of the team's
    # The answer's time on the reader's clock (Paris), not the server's.
    assert re.search(r"\d{1,2} \w+ \d{4}, \d\d:\d\d CET", body), body
    clock.advance(hours=1)
    work()  # the worker's housekeeping finds nothing left to send
    assert len(smtp.messages) == 1
    [notice] = _notices(app)
    assert (notice.state, notice.channel, notice.attempts) == ("sent", "email", 0)


def test_each_answer_gets_its_own_email_once(
    app: Flask, delivered: int, marketer: str, smtp: SMTPSink, work: Callable
) -> None:
    _answer(app, delivered, marketer)
    _answer(app, delivered, marketer)
    work()
    mails = smtp.wait_for(2)
    assert len(mails) == 2 and len({m["Message-ID"] for m in mails}) == 2


def test_an_smtp_outage_delays_the_email_and_loses_nothing(
    app: Flask,
    delivered: int,
    marketer: str,
    smtp: SMTPSink,
    work: Callable,
    clock: Clock,
) -> None:
    port = free_port()  # the relay is down: nothing listens where mail goes
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
    flash = _answer(app, delivered, marketer)
    assert "goes out as soon as the mail server answers" in flash
    [notice] = _notices(app)
    assert (notice.state, notice.attempts) == ("queued", 1)
    message_id = notice.message_id
    work()  # still down, and not yet due again: nothing is lost, nothing is spent
    [notice] = _notices(app)
    assert notice.state == "queued"

    back = sink_on(port)  # the relay comes back where it was
    try:
        clock.advance(hours=1)
        work()
        [mail] = back.wait_for(1)
        work()
        assert len(back.messages) == 1
        assert not smtp.messages
    finally:
        back.stop()
    assert mail["Subject"] == "The team answered your reply about “Letter one”"
    assert mail["Message-ID"] == message_id  # the same mail as the attempt that failed
    [notice] = _notices(app)
    assert notice.state == "sent"


def test_a_long_outage_ends_in_the_dead_letter_not_in_a_loop(
    app: Flask, delivered: int, marketer: str, work: Callable, clock: Clock
) -> None:
    app.config["NOTIFY_MAX_ATTEMPTS"] = 3
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{free_port()}"
    _answer(app, delivered, marketer)
    for _ in range(4):
        clock.advance(hours=7)
        work()
    [notice] = _notices(app)
    assert (notice.state, notice.attempts) == ("dead", 3)
    assert notice.last_error
