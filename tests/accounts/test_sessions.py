"""Sign-in sessions: renewal, sign-out, remember-me and password changes."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from app.accounts.models import Member
from tests.conftest import PASSWORD
from tests.helpers import SMTPSink, csrf_token, post_form, sign_in

NEW_PASSWORD = "another long passphrase"


def _session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_session_is_renewed_at_sign_in(client: FlaskClient, member: Member) -> None:
    client.get("/signin")
    before = _session_cookie(client)
    with client.session_transaction() as s:
        s["planted"] = "by an attacker"
        s["carry.survey"] = {"q1": "kept"}
    sign_in(client, "reader@example.com", PASSWORD)
    with client.session_transaction() as s:
        assert "planted" not in s
        assert s["carry.survey"] == {"q1": "kept"}
    assert _session_cookie(client) != before


def test_a_copied_session_cookie_is_worthless_after_sign_out(
    app: Flask, client: FlaskClient, member: Member
) -> None:
    sign_in(client, "reader@example.com", PASSWORD)
    stolen = _session_cookie(client)
    client.post("/signout", data={"csrf_token": csrf_token(client.get("/me/account").text)})
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/me/account").status_code == 302


def test_remember_me_survives_a_new_session_but_not_a_password_change(
    app: Flask, client: FlaskClient, member: Member
) -> None:
    sign_in(client, "reader@example.com", PASSWORD, remember=True)
    remember = client.get_cookie("remember_token")
    assert remember is not None and remember.http_only

    other_browser = app.test_client()
    other_browser.set_cookie("remember_token", remember.value)
    assert other_browser.get("/me/account").status_code == 200  # restored from the cookie

    # The password changes on a third device.
    third = app.test_client()
    sign_in(third, "reader@example.com", PASSWORD)
    page = third.get("/me/account").text
    changed = third.post(
        "/me/account/password",
        data={
            "csrf_token": csrf_token(page),
            "password-current_password": PASSWORD,
            "password-new_password": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302

    fresh_browser = app.test_client()
    fresh_browser.set_cookie("remember_token", remember.value)
    assert fresh_browser.get("/me/account").status_code == 302
    assert client.get("/me/account").status_code == 302  # the first session ended too
    assert third.get("/me/account").status_code == 200  # the device that changed it stays in


def test_password_change_needs_the_current_password_and_sends_a_notice(
    client: FlaskClient, member: Member, smtp: SMTPSink
) -> None:
    sign_in(client, "reader@example.com", PASSWORD)
    token = csrf_token(client.get("/me/account").text)
    wrong = client.post(
        "/me/account/password",
        data={
            "csrf_token": token,
            "password-current_password": "not it at all",
            "password-new_password": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 400 and "Your password is not right." in wrong.text
    right = client.post(
        "/me/account/password",
        data={
            "csrf_token": token,
            "password-current_password": PASSWORD,
            "password-new_password": NEW_PASSWORD,
        },
    )
    assert right.status_code == 302
    assert smtp.wait_for(1)[0]["Subject"] == "Your password was changed"


def test_sign_out_everywhere_ends_other_devices_only(app: Flask, member: Member) -> None:
    first, second = app.test_client(), app.test_client()
    sign_in(first, "reader@example.com", PASSWORD)
    sign_in(second, "reader@example.com", PASSWORD)
    page = first.get("/me/account").text
    assert page.count("since ") == 2
    first.post("/me/account/sign-out-everywhere", data={"csrf_token": csrf_token(page)})
    assert first.get("/me/account").status_code == 200
    assert second.get("/me/account").status_code == 302


def test_sign_out_is_a_post(client: FlaskClient, member: Member) -> None:
    sign_in(client, "reader@example.com", PASSWORD)
    assert client.get("/signout").status_code == 405
    assert client.get("/me/account").status_code == 200


def test_session_cookie_flags(client: FlaskClient, member: Member) -> None:
    response = post_form(client, "/signin", {"email": "reader@example.com", "password": PASSWORD})
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert "Secure" not in header  # BASE_URL is http in the tests
