"""The confirmation link of a new account signs the member in, as safely as a sign-in link:
after a button press (mail scanners open links), once, within 20 minutes of the mail, with a
new session; then the member lands on a welcome page that shows what they earned and what may
now be offered to them. Later the link still confirms the address, but asks to sign in."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.accounts.models import Member, TokenUse
from app.extensions import db
from tests.conftest import PASSWORD, Clock
from tests.helpers import SMTPSink, copy_pack, csrf_token, link_in, post_form


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    stickers = tmp_path / "stickers"
    copy_pack(stickers, "hello-there", "Hello there", ["account"])
    app_config["STICKERS_DIR"] = str(stickers)
    return app_config


def _sign_up(client: FlaskClient, smtp: SMTPSink) -> str:
    response = post_form(
        client,
        "/signup",
        {"email": "nova@example.com", "password": PASSWORD, "display_name": "Nova"},
    )
    assert response.status_code == 302
    [message] = smtp.wait_for(1)
    return link_in(message, "/verify/")


def _press(client: FlaskClient, page: str) -> Any:
    """Press the "Sign me in" button of the confirmation page ``page``."""
    action = re.search(r'<form method="post" action="([^"]+)"', page)
    assert action is not None, page
    return client.post(action.group(1).replace("&amp;", "&"), data={"csrf_token": csrf_token(page)})


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/me/account").status_code == 200


def test_the_link_confirms_signs_in_once_and_lands_on_the_welcome_page(
    app: Flask, client: FlaskClient, smtp: SMTPSink
) -> None:
    link = _sign_up(client, smtp)
    page = client.get(link)
    assert page.status_code == 200
    assert "Your address is confirmed" in page.text and "Sign me in" in page.text
    assert not _signed_in(client)  # opening the link (a mail scanner does) signs nobody in
    before = client.get_cookie("session")

    pressed = _press(client, page.text)
    assert pressed.status_code == 302 and pressed.headers["Location"] == "/welcome"
    assert client.get_cookie("session") != before  # the session was renewed
    welcome = client.get("/welcome").text
    assert "Welcome, Nova" in welcome
    # What confirming earned: the pack, in words, and the topic offered with an unticked yes.
    assert "Hello there" in welcome and "for confirming your email address" in welcome
    assert "The weekly letter" in welcome
    assert 'type="checkbox"' in welcome and "checked" not in welcome
    with app.app_context():
        member = db.session.query(Member).filter_by(email_key="nova@example.com").one()
        assert member.is_verified
        assert db.session.query(TokenUse).filter_by(purpose="verify-signin").count() == 1

    # Signed out, the same link neither confirms again nor signs in.
    client.post("/signout", data={"csrf_token": csrf_token(client.get("/me/account").text)})
    assert not _signed_in(client)
    again = client.get(link)
    assert again.status_code == 400 and "already used" in again.text
    replay = _press(client, page.text.replace(csrf_token(page.text), csrf_token(again.text)))
    assert replay.status_code == 302 and replay.headers["Location"].startswith("/signin")
    assert not _signed_in(client)


def test_a_link_a_scanner_opened_first_still_signs_in_once(
    app: Flask, client: FlaskClient, smtp: SMTPSink
) -> None:
    link = _sign_up(client, smtp)
    app.test_client().get(link)  # the mail provider's scanner, on its own cookies
    page = client.get(link)
    assert page.status_code == 200 and "Sign me in" in page.text
    assert _press(client, page.text).headers["Location"] == "/welcome"
    assert _signed_in(client)


def test_past_twenty_minutes_the_link_confirms_but_asks_to_sign_in(
    app: Flask, client: FlaskClient, smtp: SMTPSink, clock: Clock
) -> None:
    link = _sign_up(client, smtp)
    clock.advance(minutes=21)
    page = client.get(link)
    assert page.status_code == 200
    assert "Your address is confirmed" in page.text and "Sign me in" not in page.text
    assert 'href="/signin?' in page.text
    assert not _signed_in(client)
    with app.app_context():
        assert db.session.query(Member).filter_by(email_key="nova@example.com").one().is_verified


def test_the_button_pressed_too_late_does_not_sign_in(
    app: Flask, client: FlaskClient, smtp: SMTPSink, clock: Clock
) -> None:
    link = _sign_up(client, smtp)
    page = client.get(link)
    clock.advance(minutes=21)
    late = _press(client, page.text)
    assert late.status_code == 302 and late.headers["Location"].startswith("/signin")
    assert not _signed_in(client)


def test_the_button_needs_the_forms_csrf_token(
    app: Flask, client: FlaskClient, smtp: SMTPSink
) -> None:
    link = _sign_up(client, smtp)
    client.get(link)
    assert client.post(f"{link}/sign-in").status_code == 400
    assert not _signed_in(client)


def test_a_forged_link_signs_no_one_in(app: Flask, client: FlaskClient, smtp: SMTPSink) -> None:
    link = _sign_up(client, smtp)
    page = client.get(link).text
    forged = page.replace(link.split("/verify/")[1].split("?")[0], "x" * 40)
    response = _press(client, forged)
    assert response.status_code == 400 and "not valid" in response.text
    assert not _signed_in(client)


def test_the_welcome_page_is_for_members(client: FlaskClient) -> None:
    response = client.get("/welcome")
    assert response.status_code == 302 and response.headers["Location"].startswith("/signin")


def test_guessing_at_the_button_is_rate_limited_per_ip(app: Flask, client: FlaskClient) -> None:
    app.config["RATELIMIT_AUTH_IP"] = "3 per minute"
    token = csrf_token(client.get("/signin").text)
    codes = [
        client.post(
            f"/verify/guess{i}/sign-in",
            data={"csrf_token": token},
            environ_base={"REMOTE_ADDR": "198.51.100.7"},
        ).status_code
        for i in range(5)
    ]
    assert codes == [400, 400, 400, 429, 429]
