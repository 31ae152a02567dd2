"""Password reset, sign-in links, and what an expired, forged or reused link shows."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.accounts import members
from app.accounts.models import Member
from app.extensions import db
from tests.conftest import PASSWORD, Clock
from tests.helpers import SMTPSink, link_in, post_form, sign_in

NEW_PASSWORD = "a brand new passphrase"


def _request_reset(client: FlaskClient, smtp: SMTPSink, address: str = "reader@example.com") -> str:
    response = post_form(client, "/reset", {"email": address})
    assert response.headers["Location"] == "/check-your-inbox?why=reset"
    return link_in(smtp.wait_for(1)[-1], "/reset/")


def test_password_reset_end_to_end(client: FlaskClient, smtp: SMTPSink, member: Member) -> None:
    link = _request_reset(client, smtp)
    form = client.get(link)
    assert form.status_code == 200 and "Choose a new password" in form.get_data(as_text=True)
    done = post_form(client, link, {"password": NEW_PASSWORD})
    assert done.status_code == 302
    sign_in(client, "reader@example.com", NEW_PASSWORD)


def _without_form_token(page: bytes) -> bytes:
    """The page without its CSRF token, which carries the second it was made in."""
    return re.sub(rb'(name="csrf_token"[^>]*? value=")[^"]*"', rb'\1"', page)


def test_reset_and_sign_in_link_requests_never_reveal_whether_an_account_exists(
    client: FlaskClient, smtp: SMTPSink, member: Member
) -> None:
    for url in ("/reset", "/signin/link"):
        known = post_form(client, url, {"email": "reader@example.com"})
        unknown = post_form(client, url, {"email": "stranger@example.com"})
        assert known.status_code == unknown.status_code == 302
        assert known.headers["Location"] == unknown.headers["Location"]
        assert _without_form_token(client.get(known.headers["Location"]).data) == (
            _without_form_token(client.get(unknown.headers["Location"]).data)
        )
    assert len(smtp.wait_for(2)) == 2  # only the member's two messages
    assert all("reader@example.com" in str(m["To"]) for m in smtp.messages)


def test_a_reset_link_works_once(client: FlaskClient, smtp: SMTPSink, member: Member) -> None:
    link = _request_reset(client, smtp)
    post_form(client, link, {"password": NEW_PASSWORD})
    again = client.get(link)
    assert again.status_code == 400
    html = again.get_data(as_text=True)
    assert "This link was already used" in html
    assert "Get a new reset link" in html


def test_an_expired_reset_link_says_so_and_offers_a_new_one(
    client: FlaskClient, smtp: SMTPSink, member: Member, clock: Clock
) -> None:
    link = _request_reset(client, smtp)
    clock.advance(hours=1, seconds=1)
    response = client.get(link)
    assert response.status_code == 400
    assert "This link has expired" in response.get_data(as_text=True)
    assert post_form(client, link, {"password": NEW_PASSWORD}, page="/reset").status_code == 400


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: "x" + t,
        lambda t: t.split(".")[0],
        lambda t: "x" * 2000,
    ],
)
def test_a_forged_reset_link_is_refused(
    client: FlaskClient, smtp: SMTPSink, member: Member, mangle
) -> None:  # type: ignore[no-untyped-def]
    link = _request_reset(client, smtp)
    token = link.rsplit("/", 1)[1]
    response = client.get(f"/reset/{mangle(token)}")
    assert response.status_code == 400
    assert "This link is not valid" in response.get_data(as_text=True)


def test_a_token_for_one_purpose_does_not_work_for_another(
    client: FlaskClient, smtp: SMTPSink, member: Member
) -> None:
    link = _request_reset(client, smtp)
    token = link.rsplit("/", 1)[1]
    assert "This link is not valid" in client.get(f"/signin/link/{token}").get_data(as_text=True)
    assert "This link is not valid" in client.get(f"/verify/{token}").get_data(as_text=True)


def test_magic_link_signs_in_a_member_without_a_password(
    app: Flask, client: FlaskClient, smtp: SMTPSink, clock: Clock
) -> None:
    with app.app_context():
        members.create_member("subscriber@example.com", None, now=clock())
        db.session.commit()
    post_form(
        client,
        "/signin/link?next=/me/account",
        {"email": "subscriber@example.com", "next": "/me/account"},
    )
    link = link_in(smtp.wait_for(1)[0], "/signin/link/")
    # A GET (a mail scanner, say) shows a button and uses nothing up.
    assert "Sign me in" in client.get(link).get_data(as_text=True)
    response = post_form(client, link, {})
    assert response.status_code == 302 and response.headers["Location"] == "/me/account"
    page = client.get("/me/account").get_data(as_text=True)
    assert "subscriber@example.com" in page and "Choose a password" in page
    # Used once; the subscriber's address counts as verified now.
    client.post("/signout", data={"csrf_token": _csrf(client)})
    assert "already used" in post_form(client, link, {}, page="/signin").get_data(as_text=True)
    with app.app_context():
        found = members.find_by_email("subscriber@example.com")
        assert found is not None and found.is_verified


def _csrf(client: FlaskClient) -> str:
    from tests.helpers import csrf_token

    return csrf_token(client.get("/me/account").get_data(as_text=True))


def test_an_expired_magic_link_does_not_sign_in(
    client: FlaskClient, smtp: SMTPSink, member: Member, clock: Clock
) -> None:
    post_form(client, "/signin/link", {"email": "reader@example.com"})
    link = link_in(smtp.wait_for(1)[0], "/signin/link/")
    clock.advance(minutes=21)
    response = post_form(client, link, {}, page="/signin")
    assert response.status_code == 400
    assert "This link has expired" in response.get_data(as_text=True)
    assert client.get("/me/account").status_code == 302


def test_verification_link_reused_or_expired(
    client: FlaskClient, smtp: SMTPSink, clock: Clock
) -> None:
    post_form(client, "/signup", {"email": "late@example.com", "password": PASSWORD})
    link = link_in(smtp.wait_for(1)[0], "/verify/")
    clock.advance(days=3, seconds=1)
    assert "This link has expired" in client.get(link).get_data(as_text=True)
    resend = post_form(client, "/verify", {"email": "late@example.com"}, page="/check-your-inbox")
    assert resend.status_code == 302
    fresh = link_in(smtp.wait_for(2)[1], "/verify/")
    assert client.get(fresh).status_code == 200
    # Opened again soon it still offers to sign in once (a mail scanner may have opened it
    # first); past that, it is spent.
    assert "Sign me in" in client.get(fresh).get_data(as_text=True)
    clock.advance(minutes=21)
    assert "already used" in client.get(fresh).get_data(as_text=True)
