"""Sign-up, email verification through a real SMTP server, and sign-in."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.accounts.models import Member
from app.extensions import db
from tests.conftest import PASSWORD
from tests.helpers import SMTPSink, link_in, post_form, sign_in


def _signup(client: FlaskClient, email: str, password: str = PASSWORD, **extra: str):  # type: ignore[no-untyped-def]
    return post_form(client, "/signup", {"email": email, "password": password, **extra})


def test_sign_up_sends_a_verification_mail_whose_link_verifies_then_sign_in_works(
    app: Flask, client: FlaskClient, smtp: SMTPSink
) -> None:
    response = _signup(client, "New.Reader@Example.com", display_name="Nova")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/check-your-inbox")

    [message] = smtp.wait_for(1)
    assert message["To"].addresses[0].addr_spec == "New.Reader@example.com"
    assert message["Subject"] == "Confirm your email address"
    assert message.get_body(preferencelist=("html",)) is not None

    # Not verified yet: sign-in is refused with a way to get the link again.
    refused = post_form(
        client, "/signin", {"email": "new.reader@example.com", "password": PASSWORD}
    )
    assert refused.status_code == 200
    assert "Confirm your email address first" in refused.get_data(as_text=True)

    verified = client.get(link_in(message, "/verify/"))
    assert verified.status_code == 200
    assert "Your address is confirmed" in verified.get_data(as_text=True)

    sign_in(client, "NEW.READER@example.com", PASSWORD)
    page = client.get("/me/account")
    assert page.status_code == 200
    assert "New.Reader@example.com" in page.get_data(as_text=True)


def test_emails_are_unique_regardless_of_case_and_the_form_does_not_tell(
    app: Flask, client: FlaskClient, smtp: SMTPSink, member: Member
) -> None:
    response = _signup(client, "READER@EXAMPLE.COM")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/check-your-inbox")
    [message] = smtp.wait_for(1)
    # The owner of the address gets a way in instead of a second account.
    assert message["Subject"] == "Your sign-in link"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Member)) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "", "password": PASSWORD}, "Enter your email address."),
        ({"email": "not-an-address", "password": PASSWORD}, "Enter an email address such as"),
        ({"email": "a@example.com", "password": "short"}, "Use 12 to 128 characters."),
        ({"email": "a@example.com", "password": "x" * 129}, "Use 12 to 128 characters."),
        (
            {"email": "a@example.com", "password": PASSWORD, "display_name": "n" * 81},
            "Field cannot be longer than 80 characters.",
        ),
    ],
)
def test_sign_up_validation_shows_messages_next_to_fields_and_stores_nothing(
    app: Flask, client: FlaskClient, smtp: SMTPSink, data: dict[str, str], message: str
) -> None:
    response = _signup(client, **data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="error"' in html and message in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Member)) == 0
    assert smtp.messages == []


def test_password_of_twelve_characters_without_composition_rules_is_accepted(
    client: FlaskClient, smtp: SMTPSink
) -> None:
    assert _signup(client, "plain@example.com", password="aaaaaaaaaaaa").status_code == 302


def test_passwords_are_stored_as_scrypt_hashes(app: Flask, member: Member) -> None:
    with app.app_context():
        stored = db.session.get(Member, member.id)
        assert stored is not None and stored.password_hash is not None
        assert stored.password_hash.startswith("scrypt:")
        assert PASSWORD not in stored.password_hash


def test_wrong_password_and_unknown_address_get_the_same_answer(
    client: FlaskClient, member: Member
) -> None:
    wrong = post_form(client, "/signin", {"email": "reader@example.com", "password": "wrong" * 3})
    unknown = post_form(client, "/signin", {"email": "nobody@example.com", "password": "x" * 12})
    assert "do not match an account" in wrong.get_data(as_text=True)
    assert "do not match an account" in unknown.get_data(as_text=True)


def test_next_redirect_stays_on_this_site(app: Flask, client: FlaskClient, member: Member) -> None:
    app.config["RATELIMIT_AUTH_ACCOUNT"] = "100 per minute"
    for hostile in (
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
    ):
        response = post_form(
            client,
            "/signin",
            {"email": "reader@example.com", "password": PASSWORD, "next": hostile},
        )
        assert response.status_code == 302
        assert response.headers["Location"] == "/", hostile
        client.post("/signout", data={"csrf_token": _token(client)})
    response = post_form(
        client,
        "/signin",
        {"email": "reader@example.com", "password": PASSWORD, "next": "/me/account?tab=1"},
    )
    assert response.headers["Location"] == "/me/account?tab=1"


def _token(client: FlaskClient) -> str:
    from tests.helpers import csrf_token

    return csrf_token(client.get("/me/account").get_data(as_text=True))


def test_pages_that_need_a_member_send_visitors_to_sign_in_and_back(
    client: FlaskClient, member: Member
) -> None:
    response = client.get("/me/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/signin?next=/me/account"
    page = client.get(response.headers["Location"])
    assert 'name="next" type="hidden" value="/me/account"' in page.get_data(as_text=True)
