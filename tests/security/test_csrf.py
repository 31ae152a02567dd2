"""The CSRF sweep and the cookie flags.

Every route in ``app.url_map`` that takes POST, PUT, PATCH or DELETE is called for each of those
methods by a signed-in administrator (so no role check stands in the way), on real objects of
the member (a real webhook, a genuine token in the URL), with the fields its form sends but
without a CSRF token, with a forged one and with one from another session. Each is refused with
the 400 page and changes no row. The same requests with the session's own token pass the CSRF
check, so each refusal is the CSRF check's doing.

Routes that take a state-changing request without a session on purpose are listed in
:data:`CSRF_EXEMPT` with the reason; the views the app exempts must be exactly those.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from app import create_app
from app.accounts import members
from app.extensions import csrf, db
from tests.conftest import PASSWORD, REPO, Clock
from tests.helpers import csrf_token
from tests.security import world
from tests.security.tokens import kind
from tests.security.world import Owner

REFUSED = "This form expired or came from another site"
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")

# Endpoint -> why it takes a state-changing request without a CSRF token. The notifier's
# RFC 8058 one-click unsubscribe will be the first: mail clients POST it without a session,
# authorised by the token in its URL alone.
CSRF_EXEMPT: dict[str, str] = {
    "notify.unsubscribe_one_click": "RFC 8058: mail programs POST List-Unsubscribe=One-Click "
    "without cookies; the HMAC token over (member, scope, channel) is the authority, and it "
    "can only ever stop a message",
    "telegram.webhook": "Telegram posts updates without a session; the webhook secret in "
    "X-Telegram-Bot-Api-Secret-Token is the authority (403 without it, 404 when unset)",
    "api.mint_codes": "the JSON API: a bearer API key is the authority, never a cookie "
    "(a session alone gets 401: tests/api/test_keys.py), so a forged cross-site request has "
    "nothing to ride on",
    "api.record_action": "the JSON API: a bearer API key is the authority, never a cookie",
    "api.nowhere": "any other path under /api/: answers only 404 and 405 problems",
}

# The token kind each token route expects (see tests/security/tokens.py).
TOKEN_ROUTES = {
    "accounts.reset_password": "accounts.reset",
    "accounts.magic_link": "accounts.signin",
    "accounts.confirm_email_change": "accounts.email",
    "accounts.verify": "accounts.verify",
    "accounts.verify_sign_in": "accounts.verify",
    "consent.delete_by_link": "consent.delete",
    "consent.confirm_subscription": "consent.subscribe",
    "consent.why_stop": "consent.why",
    "consent.why_page": "consent.why",
}

# What a real form would send: the refusal must not be an empty form's.
FIELDS = {
    "email": world.B_EMAIL,
    "password": PASSWORD,
    "new_password": "another passphrase 2026",
    "current_password": PASSWORD,
    "display_name": "Changed by a forged request",
    "time_zone": "Europe/Paris",
    "url": "https://127.0.0.1/forged",
    "agree": "y",
    "understood": "y",
    "code": "7KQ2-M4XD-9RTB-T",
    "new_email": "forged@example.com",
    "profile-display_name": "Changed",
    "profile-time_zone": "Europe/Paris",
    "password-current_password": PASSWORD,
    "password-new_password": "another passphrase 2026",
    "email-new_email": "forged@example.com",
    "email-password": PASSWORD,
    "webhook-url": "https://127.0.0.1/forged",
    "pause-days": "7",
    "quiet-start": "22:00",
    "quiet-end": "07:00",
    "quiet-time_zone": "UTC",
    "title": "Forged",
    "kind": "post",
    "text": "---\ntitle: Forged\n---\nForged.",
    "action": "save",
    "q.role": "Something else",
}


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    # The requests with a valid token do what they ask: the editor's go to a copy of content/.
    shutil.copytree(REPO / "content", tmp_path / "content")
    app_config.update(
        WEBHOOK_ALLOW_LOOPBACK=True, RATELIMIT_ENABLED=False, CONTENT_DIR=str(tmp_path / "content")
    )
    return app_config


def _values(app: Flask, clock: Clock, rule: Rule, alice: Owner, bob: Owner) -> dict[str, Any]:
    samples: dict[str, Any] = {
        "endpoint_id": alice.endpoint_ids[0],
        "member_id": bob.member_id,
        "scope": "newsletter",
        "channel": "email",
        "kind": "post",
        "name": "consent-ledger",
        "slug": world.SURVEY,
        "delivery_id": alice.delivery_ids[0],
        "campaign_id": alice.campaign_ids[0],
        "receipt": alice.receipts[0],
        "subscription_id": 1,
        "code": "AAAAAAAAAA",
        "commit": "abcdef1",
        "hook_id": 1,
        "hook_delivery_id": 1,
        "run_id": 1,
        "key_id": 1,
    }
    values = {}
    for argument in rule.arguments:
        if argument == "token":
            token_kind = kind(TOKEN_ROUTES[rule.endpoint])
            with app.app_context():
                values[argument] = token_kind.make(app, clock, alice)
                db.session.commit()
            continue
        assert argument in samples, f"{rule.endpoint}: add a sample value for <{argument}>"
        values[argument] = samples[argument]
    return values


def _url(app: Flask, rule: Rule, values: dict[str, Any]) -> str:
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def _state_changing(app: Flask) -> list[tuple[Rule, str]]:
    return [
        (rule, method)
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
        for method in STATE_CHANGING
        if method in (rule.methods or set()) and rule.endpoint not in CSRF_EXEMPT
    ]


def _admin_world(app: Flask, clock: Clock) -> tuple[Owner, Owner]:
    alice, bob = world.build(app, clock)
    with app.app_context():
        member = members.get_member(alice.member_id)
        assert member is not None
        members.set_role(member, "admin")
        db.session.commit()
    return alice, bob


def _send(client: FlaskClient, method: str, url: str, token: str | None) -> TestResponse:
    data = dict(FIELDS)
    if token is not None:
        data["csrf_token"] = token
    response = client.open(url, method=method, data=data)
    response.get_data()
    response.close()
    return response


def test_the_exempt_views_are_exactly_the_listed_ones(app: Flask) -> None:
    exempt = set()
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        blueprint = app.blueprints.get(rule.endpoint.rpartition(".")[0])
        if f"{view.__module__}.{view.__name__}" in csrf._exempt_views or (
            blueprint is not None and blueprint in csrf._exempt_blueprints
        ):
            exempt.add(rule.endpoint)
    assert exempt == set(CSRF_EXEMPT)
    assert all(reason.strip() for reason in CSRF_EXEMPT.values())


@pytest.mark.slow
def test_every_state_changing_route_refuses_a_request_without_a_valid_token(
    app: Flask, clock: Clock
) -> None:
    alice, bob = _admin_world(app, clock)
    routes = _state_changing(app)
    assert len(routes) >= 30
    other_session = bob.csrf()
    tried = 0
    for rule, method in routes:
        url = _url(app, rule, _values(app, clock, rule, alice, bob))
        for label, token in (
            ("none", None),
            ("forged", "forged"),
            ("other session", other_session),
        ):
            before = world.snapshot(app)
            response = _send(alice.client, method, url, token)
            assert response.status_code == 400, (rule.endpoint, method, label, response.status_code)
            assert REFUSED in response.text, (rule.endpoint, method, label)
            assert world.changes(before, world.snapshot(app)) == {}, (rule.endpoint, label)
            tried += 1
        # A visitor without a session is refused the same way.
        anonymous = app.test_client()
        response = _send(anonymous, method, url, None)
        assert response.status_code == 400 and REFUSED in response.text, rule.endpoint
        tried += 1
    # Still signed in: nothing above ended the session.
    assert alice.client.get("/me/account").status_code == 200
    print(f"CSRF sweep: {len(routes)} route x method pairs, {tried} requests")


@pytest.mark.slow
def test_the_same_requests_with_the_sessions_token_pass_the_csrf_check(
    app: Flask, clock: Clock
) -> None:
    alice, bob = _admin_world(app, clock)
    # Sign-out and deletion last: they end the session the others need.
    ending = ("accounts.signout", "consent.delete_by_link", "consent.delete_account")
    routes = sorted(
        _state_changing(app),
        key=lambda rm: ending.index(rm[0].endpoint) + 1 if rm[0].endpoint in ending else 0,
    )
    for rule, method in routes:
        url = _url(app, rule, _values(app, clock, rule, alice, bob))
        # The form on /reset shows to everyone, signed in or not (a reset ends the session).
        token = csrf_token(alice.client.get("/reset").get_data(as_text=True))
        response = _send(alice.client, method, url, token)
        answer = response.get_data().decode("utf-8", "replace")  # a download may be a zip
        assert REFUSED not in answer, (rule.endpoint, method)
        assert response.status_code != 500, (rule.endpoint, method)


# --- cookie flags -------------------------------------------------------------------------------


def _set_cookies(response: TestResponse) -> dict[str, str]:
    found = {}
    for header in response.headers.getlist("Set-Cookie"):
        name = header.split("=", 1)[0]
        found[name] = header
    return found


def _flags(header: str) -> set[str]:
    return {part.strip().lower() for part in header.split(";")[1:]}


def _sign_in_cookies(app: Flask, base: str) -> dict[str, str]:
    client = app.test_client()
    page = client.get("/signin", base_url=base)
    response = client.post(
        "/signin",
        base_url=base,
        headers={"Referer": f"{base}/signin"},
        data={
            "email": "reader@example.com",
            "password": PASSWORD,
            "remember": "y",
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return _set_cookies(response)


@pytest.mark.parametrize("base", ["http://localhost", "https://journal.example.com"])
def test_session_and_remember_cookies_carry_their_flags(
    app: Flask, member: object, app_config: dict[str, Any], base: str
) -> None:
    served = app if base.startswith("http:") else create_app({**app_config, "BASE_URL": base})
    try:
        cookies = _sign_in_cookies(served, base)
    finally:
        if served is not app:
            with served.app_context():
                db.engine.dispose()  # this second app's connections, closed now
    for name in ("session", "remember_token"):
        assert name in cookies, (name, list(cookies))
        flags = _flags(cookies[name])
        assert "httponly" in flags, (name, flags)
        assert "samesite=lax" in flags, (name, flags)
        assert ("secure" in flags) == base.startswith("https:"), (name, flags)
