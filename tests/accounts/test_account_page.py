"""The account page: profile, time zone and email change."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from app.accounts import members
from app.accounts.models import Member
from tests.conftest import PASSWORD, Clock
from tests.helpers import SMTPSink, csrf_token, link_in, post_form, sign_in


def test_profile_saves_display_name_and_time_zone(
    app: Flask, client: FlaskClient, member: Member
) -> None:
    sign_in(client, "reader@example.com", PASSWORD)
    token = csrf_token(client.get("/me/account").text)
    saved = client.post(
        "/me/account/profile",
        data={
            "csrf_token": token,
            "profile-display_name": "Robin <b>R</b>",
            "profile-time_zone": "Europe/Lisbon",
        },
    )
    assert saved.status_code == 302
    page = client.get("/me/account").text
    assert "Robin &lt;b&gt;R&lt;/b&gt;" in page  # escaped, never markup
    with app.app_context():
        found = members.find_by_email("reader@example.com")
        assert found is not None and found.time_zone == "Europe/Lisbon"


def test_unknown_time_zone_is_refused_next_to_the_field(
    client: FlaskClient, member: Member
) -> None:
    sign_in(client, "reader@example.com", PASSWORD)
    token = csrf_token(client.get("/me/account").text)
    response = client.post(
        "/me/account/profile",
        data={
            "csrf_token": token,
            "profile-display_name": "x",
            "profile-time_zone": "Mars/Olympus",
        },
    )
    assert response.status_code == 400
    assert "Choose a time zone from the list." in response.text


def test_email_change_is_confirmed_from_the_new_address(
    app: Flask, client: FlaskClient, member: Member, smtp: SMTPSink
) -> None:
    sign_in(client, "reader@example.com", PASSWORD)
    token = csrf_token(client.get("/me/account").text)
    asked = client.post(
        "/me/account/email",
        data={
            "csrf_token": token,
            "email-new_email": "robin@example.org",
            "email-password": PASSWORD,
        },
    )
    assert asked.status_code == 302
    message = smtp.wait_for(1)[0]
    assert "robin@example.org" in str(message["To"])
    with app.app_context():  # nothing changes until the link is opened
        assert members.find_by_email("reader@example.com") is not None
    link = link_in(message, "/me/account/email/")
    assert post_form(client, link, {}).status_code == 302
    with app.app_context():
        assert members.find_by_email("reader@example.com") is None
        assert members.find_by_email("ROBIN@example.org") is not None


def test_email_change_to_a_taken_address_or_with_a_wrong_password_is_refused(
    app: Flask, client: FlaskClient, member: Member, clock: Clock
) -> None:
    with app.app_context():
        members.create_member("taken@example.com", PASSWORD, now=clock(), verified=True)
        from app.extensions import db

        db.session.commit()
    sign_in(client, "reader@example.com", PASSWORD)
    token = csrf_token(client.get("/me/account").text)
    taken = client.post(
        "/me/account/email",
        data={
            "csrf_token": token,
            "email-new_email": "Taken@Example.com",
            "email-password": PASSWORD,
        },
    )
    assert taken.status_code == 400 and "Another account uses this email address." in taken.text
    wrong = client.post(
        "/me/account/email",
        data={
            "csrf_token": token,
            "email-new_email": "free@example.com",
            "email-password": "nope" * 4,
        },
    )
    assert wrong.status_code == 400 and "Your password is not right." in wrong.text
