"""Session fixation and the replay of old cookies.

A session cookie planted before sign-in (and the CSRF token it carries) is worthless after it;
the session cookie and the "keep me signed in" cookie of a browser stop working, wherever they
were copied to, after sign-out, after "sign out everywhere else" (for the other browsers), after
a password change and after a password reset.
"""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from app.accounts import links
from app.accounts.members import get_member
from app.accounts.models import Member
from app.extensions import db
from tests.conftest import PASSWORD
from tests.helpers import csrf_token, post_form, sign_in

EMAIL = "reader@example.com"
NEW_PASSWORD = "a brand new passphrase 2026"


def _cookies(client: FlaskClient) -> dict[str, str]:
    found = {}
    for name in ("session", "remember_token"):
        cookie = client.get_cookie(name)
        if cookie is not None:
            found[name] = cookie.value
    return found


def _browser_with(app: Flask, cookies: dict[str, str]) -> FlaskClient:
    """A fresh browser holding copies of ``cookies``."""
    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return client


def _signed_in(client: FlaskClient) -> bool:
    response = client.get("/me/account")
    return response.status_code == 200


def _signed_in_browser(app: Flask, agent: str = "Browser/1") -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = agent
    sign_in(client, EMAIL, PASSWORD, remember=True)
    return client


def test_the_session_is_renewed_at_sign_in(app: Flask, member: Member) -> None:
    victim = app.test_client()
    planted_page = victim.get("/signin")
    planted = _cookies(victim)
    assert "session" in planted  # the visitor's session, as an attacker could have set it
    planted_token = csrf_token(planted_page.get_data(as_text=True))
    sign_in(victim, EMAIL, PASSWORD)
    after = _cookies(victim)
    assert after["session"] != planted["session"]
    assert _signed_in(victim)
    # The attacker's copy of the planted cookie is still a visitor's.
    attacker = _browser_with(app, planted)
    assert not _signed_in(attacker)
    # The CSRF token of the planted session does not work in the signed-in session.
    response = victim.post(
        "/me/account/profile",
        data={
            "csrf_token": planted_token,
            "profile-display_name": "Fixed",
            "profile-time_zone": "UTC",
        },
    )
    assert response.status_code == 400


def test_cookies_replayed_after_sign_out_are_refused(app: Flask, member: Member) -> None:
    browser = _signed_in_browser(app)
    copied = _cookies(browser)
    assert set(copied) == {"session", "remember_token"}
    assert _signed_in(_browser_with(app, copied))  # the copy works while signed in
    page = browser.get("/me/account")
    browser.post("/signout", data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert not _signed_in(browser)
    assert not _signed_in(_browser_with(app, copied))
    assert not _signed_in(_browser_with(app, {"session": copied["session"]}))
    assert not _signed_in(_browser_with(app, {"remember_token": copied["remember_token"]}))


def test_sign_out_everywhere_else_ends_the_other_browsers(app: Flask, member: Member) -> None:
    here = _signed_in_browser(app, "Here/1")
    there = _signed_in_browser(app, "There/1")
    copied_there = _cookies(there)
    copied_here = _cookies(here)
    response = post_form(here, "/me/account/sign-out-everywhere", {}, page="/me/account")
    assert response.status_code == 302
    assert _signed_in(here)
    assert _signed_in(_browser_with(app, copied_here))
    assert not _signed_in(there)
    assert not _signed_in(_browser_with(app, copied_there))
    assert not _signed_in(_browser_with(app, {"remember_token": copied_there["remember_token"]}))


def test_a_password_change_ends_every_old_cookie(app: Flask, member: Member) -> None:
    here = _signed_in_browser(app, "Here/1")
    there = _signed_in_browser(app, "There/1")
    old_here, old_there = _cookies(here), _cookies(there)
    response = post_form(
        here,
        "/me/account/password",
        {"password-current_password": PASSWORD, "password-new_password": NEW_PASSWORD},
        page="/me/account",
    )
    assert response.status_code == 302
    assert _signed_in(here)  # renewed for the browser that changed it
    assert _cookies(here)["session"] != old_here["session"]
    for old in (old_here, old_there):
        assert not _signed_in(_browser_with(app, old))
        assert not _signed_in(_browser_with(app, {"remember_token": old["remember_token"]}))
    assert not _signed_in(there)


def test_a_password_reset_ends_every_old_cookie(app: Flask, member: Member) -> None:
    here = _signed_in_browser(app)
    old = _cookies(here)
    with app.app_context():
        found = get_member(member.id)
        assert found is not None
        token = links.make_link("reset", found)
        db.session.commit()
    visitor = app.test_client()
    response = post_form(visitor, f"/reset/{token}", {"password": NEW_PASSWORD})
    assert response.status_code == 302
    assert not _signed_in(here)
    assert not _signed_in(_browser_with(app, old))
    assert not _signed_in(_browser_with(app, {"remember_token": old["remember_token"]}))
