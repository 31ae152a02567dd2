"""Browser notifications on the member's side: the service worker as served from the site's
root, browsers' subscriptions posted as JSON with the CSRF header (checked keys, only known
push services, loopback only where tests allow it), a browser moving to whoever subscribes it
last, at most ten browsers per member, forgetting a browser (one's own only), and the yes to
browser notifications recorded with the source ``push``.

Subscriptions are made by the local push service of :mod:`tests.push.service`, as a browser
makes them: a real P-256 key and auth secret, an endpoint on ``http://127.0.0.1``."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.outbound.webpush import Subscription, b64url
from tests.conftest import PASSWORD, Clock
from tests.consent import world
from tests.consent.pages import can_switch_on, save_switches
from tests.helpers import csrf_token, post_form, sign_in
from tests.push.service import PushService

UNKNOWN_SERVICE = "This browser's push service is not one we send to."


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """The local push service lives on the loopback address."""
    return {**app_config, "WEBHOOK_ALLOW_LOOPBACK": True}


@pytest.fixture
def service() -> Iterator[PushService]:
    with PushService() as running:
        yield running
    assert not running.errors, running.errors


def signed_in(app: Flask, clock: Clock, email: str) -> FlaskClient:
    """A browser signed in as a new member who earned ``new-stickers``."""
    from app.accounts import members
    from app.extensions import db

    with app.app_context():
        created = members.create_member(email, PASSWORD, now=clock(), verified=True)
        world.earn(created.id, "new-stickers", clock() - timedelta(days=1))
        db.session.commit()
    browser = app.test_client()
    sign_in(browser, email, PASSWORD)
    return browser


@pytest.fixture
def robin(app: Flask, clock: Clock) -> FlaskClient:
    return signed_in(app, clock, "robin@example.com")


def as_json(subscription: Subscription) -> dict[str, Any]:
    """What ``PushSubscription.toJSON()`` gives the page script."""
    return {
        "endpoint": subscription.endpoint,
        "expirationTime": None,
        "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
    }


def point() -> str:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return b64url(
        key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )


def at(endpoint: str, p256dh: str | None = None, auth: str | None = None) -> dict[str, Any]:
    """A subscription at ``endpoint`` with good keys unless others are given."""
    return {
        "endpoint": endpoint,
        "keys": {
            "p256dh": point() if p256dh is None else p256dh,
            "auth": b64url(os.urandom(16)) if auth is None else auth,
        },
    }


def post_subscription(browser: FlaskClient, body: Any, *, csrf: bool = True) -> TestResponse:
    headers = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"}
    if csrf:
        headers["X-CSRFToken"] = csrf_token(browser.get("/me/permissions").text)
    return browser.post("/me/push/subscriptions", json=body, headers=headers)


def rows(app: Flask) -> list[Any]:
    from app.consent.models import PushSubscription
    from app.extensions import db

    with app.app_context():
        found = list(db.session.scalars(select(PushSubscription).order_by(PushSubscription.id)))
        for row in found:
            db.session.expunge(row)
        return found


def member_id(app: Flask, email: str) -> int:
    from app.accounts import members

    with app.app_context():
        found = members.find_by_email(email)
        assert found is not None
        return found.id


# --- the service worker -----------------------------------------------------------------------


def test_the_service_worker_is_served_from_the_root_for_the_whole_site(
    client: FlaskClient,
) -> None:
    response = client.get("/push-worker.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "default-src" in response.headers["Content-Security-Policy"]
    assert 'self.addEventListener("push"' in response.text


# --- subscribing ------------------------------------------------------------------------------


def test_a_subscription_without_the_csrf_header_is_refused(
    app: Flask, robin: FlaskClient, service: PushService
) -> None:
    subscription, _ = service.subscribe()
    response = post_subscription(robin, as_json(subscription), csrf=False)
    assert response.status_code == 400
    assert rows(app) == []


def test_a_browsers_subscription_is_kept_for_the_member(
    app: Flask, robin: FlaskClient, service: PushService, clock: Clock
) -> None:
    subscription, _ = service.subscribe()
    response = post_subscription(robin, as_json(subscription))
    assert response.status_code == 201
    (row,) = rows(app)
    assert response.get_json() == {"id": row.id}
    assert (row.endpoint, row.p256dh, row.auth) == (
        subscription.endpoint,
        subscription.p256dh,
        subscription.auth,
    )
    assert row.member_id == member_id(app, "robin@example.com")
    assert row.browser.startswith("Mozilla/5.0") and row.disabled_at is None
    assert row.created_at == clock()
    page = robin.get("/me/permissions").text
    assert 'id="push-heading"' in page and "Firefox/133.0" in page
    assert f'action="/me/push/subscriptions/{row.id}/remove"' in page


def test_padded_keys_are_kept_without_padding(
    app: Flask, robin: FlaskClient, service: PushService
) -> None:
    subscription, _ = service.subscribe()
    body = at(subscription.endpoint, subscription.p256dh + "=", subscription.auth + "==")
    assert post_subscription(robin, body).status_code == 201
    (row,) = rows(app)
    assert (row.p256dh, row.auth) == (subscription.p256dh, subscription.auth)


def test_the_push_services_of_the_big_browsers_are_accepted(app: Flask, robin: FlaskClient) -> None:
    endpoints = (
        "https://fcm.googleapis.com/fcm/send/abc:def",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAA",
        "https://web.push.apple.com/QGuQyavXutnMotqkv8cKpE",
        "https://wns2-by3p.notify.windows.com/w/?token=BQYAAAB",
    )
    for endpoint in endpoints:
        assert post_subscription(robin, at(endpoint)).status_code == 201
    assert [row.endpoint for row in rows(app)] == list(endpoints)


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://10.0.0.5/x",
        "https://evil.example/",
        "https://fcm.googleapis.com.evil.example/fcm/send/abc",
        "https://evilfcm.googleapis.com/fcm/send/abc",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/push/abc",
    ],
)
def test_an_endpoint_at_an_unknown_host_is_refused_in_plain_words(
    app: Flask, robin: FlaskClient, endpoint: str
) -> None:
    response = post_subscription(robin, at(endpoint))
    assert response.status_code == 400
    assert response.is_json and response.get_json()["error"].startswith(UNKNOWN_SERVICE)
    assert rows(app) == []


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (at("http://fcm.googleapis.com/fcm/send/abc"), "must be an https:// URL"),
        (at("https://user:pw@fcm.googleapis.com/fcm/send/abc"), "user name, password"),
        (at("https://fcm.googleapis.com/fcm/send/" + "a" * 1000), "longer than 1000"),
        ({"keys": {}}, "has no endpoint"),
        ({"endpoint": "https://fcm.googleapis.com/fcm/send/abc"}, "has no keys"),
        (at("https://fcm.googleapis.com/x", p256dh="BAAA+/=="), "p256dh key is not base64url"),
        (at("https://fcm.googleapis.com/x", p256dh=b64url(b"\x04" * 33)), "65 bytes"),
        (at("https://fcm.googleapis.com/x", p256dh=b64url(b"\x04" + b"\x01" * 64)), "P-256 curve"),
        (at("https://fcm.googleapis.com/x", auth=b64url(os.urandom(15))), "must be 16 bytes"),
        (at("https://fcm.googleapis.com/x", auth="not base64!"), "auth secret is not base64url"),
        (["https://fcm.googleapis.com/x"], "as a JSON object"),
    ],
    ids=[
        "http",
        "userinfo",
        "too-long",
        "no-endpoint",
        "no-keys",
        "p256dh-alphabet",
        "p256dh-length",
        "p256dh-off-curve",
        "auth-length",
        "auth-alphabet",
        "not-an-object",
    ],
)
def test_a_malformed_subscription_is_refused_with_what_is_wrong(
    app: Flask, robin: FlaskClient, body: Any, words: str
) -> None:
    response = post_subscription(robin, body)
    assert response.status_code == 400
    assert words in response.get_json()["error"]
    assert rows(app) == []


def test_loopback_endpoints_are_refused_where_tests_do_not_allow_them(
    app: Flask, robin: FlaskClient, service: PushService
) -> None:
    app.config["WEBHOOK_ALLOW_LOOPBACK"] = False
    subscription, _ = service.subscribe()
    response = post_subscription(robin, as_json(subscription))
    assert response.status_code == 400 and "https://" in response.get_json()["error"]
    https_loopback = at("https://127.0.0.1/push/abc")
    response = post_subscription(robin, https_loopback)
    assert response.status_code == 400
    assert response.get_json()["error"].startswith(UNKNOWN_SERVICE)
    assert rows(app) == []


def test_a_visitor_cannot_post_a_subscription(
    app: Flask, client: FlaskClient, service: PushService
) -> None:
    subscription, _ = service.subscribe()
    client.get("/signin")
    response = client.post("/me/push/subscriptions", json=as_json(subscription))
    assert response.status_code == 400  # the CSRF check comes first
    assert rows(app) == []


def test_a_visitor_with_a_csrf_token_is_sent_to_sign_in(
    app: Flask, client: FlaskClient, service: PushService
) -> None:
    subscription, _ = service.subscribe()
    token = csrf_token(client.get("/signin").text)
    response = client.post(
        "/me/push/subscriptions", json=as_json(subscription), headers={"X-CSRFToken": token}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/signin?next=/me/push/subscriptions"
    assert rows(app) == []


def test_a_browser_moves_to_the_member_who_subscribes_it_last(
    app: Flask, robin: FlaskClient, service: PushService, clock: Clock
) -> None:
    from app.consent import push
    from app.extensions import db

    subscription, _ = service.subscribe()
    assert post_subscription(robin, as_json(subscription)).status_code == 201
    with app.app_context():
        push.disable(subscription.endpoint, clock())
        db.session.commit()
    sam = signed_in(app, clock, "sam@example.com")
    clock.advance(hours=1)
    assert post_subscription(sam, as_json(subscription)).status_code == 201
    (row,) = rows(app)
    assert row.member_id == member_id(app, "sam@example.com")
    assert row.disabled_at is None  # subscribing again turns it back on
    assert 'id="push-heading"' not in robin.get("/me/permissions").text


def test_a_member_keeps_at_most_ten_browsers_and_the_oldest_goes(
    app: Flask, robin: FlaskClient, service: PushService, clock: Clock
) -> None:
    made = []
    for _ in range(11):
        subscription, _ = service.subscribe()
        made.append(subscription.endpoint)
        assert post_subscription(robin, as_json(subscription)).status_code == 201
        clock.advance(minutes=1)
    kept = rows(app)
    assert len(kept) == 10
    assert [row.endpoint for row in kept] == made[1:]


def test_another_members_ten_browsers_do_not_push_out_mine(
    app: Flask, robin: FlaskClient, service: PushService, clock: Clock
) -> None:
    mine, _ = service.subscribe()
    post_subscription(robin, as_json(mine))
    sam = signed_in(app, clock, "sam@example.com")
    for _ in range(10):
        clock.advance(minutes=1)
        theirs, _ = service.subscribe()
        post_subscription(sam, as_json(theirs))
    assert len(rows(app)) == 11
    assert mine.endpoint in [row.endpoint for row in rows(app)]


# --- forgetting a browser ---------------------------------------------------------------------


def test_a_member_cannot_remove_another_members_browser(
    app: Flask, robin: FlaskClient, service: PushService, clock: Clock
) -> None:
    subscription, _ = service.subscribe()
    post_subscription(robin, as_json(subscription))
    (row,) = rows(app)
    sam = signed_in(app, clock, "sam@example.com")
    response = post_form(sam, f"/me/push/subscriptions/{row.id}/remove", {}, page="/me/permissions")
    assert response.status_code == 302
    assert [r.id for r in rows(app)] == [row.id]
    assert "no more notifications" not in sam.get("/me/permissions").text


def test_a_member_forgets_their_own_browser(
    app: Flask, robin: FlaskClient, service: PushService
) -> None:
    first, _ = service.subscribe()
    second, _ = service.subscribe()
    post_subscription(robin, as_json(first))
    post_subscription(robin, as_json(second))
    gone = rows(app)[0]
    robin.post(f"/me/push/subscriptions/{gone.id}/remove", data={})  # no CSRF token: nothing
    assert len(rows(app)) == 2
    response = post_form(
        robin, f"/me/push/subscriptions/{gone.id}/remove", {}, page="/me/permissions"
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("#push")
    assert [row.endpoint for row in rows(app)] == [second.endpoint]
    assert "That browser will get no more notifications from us." in (
        robin.get("/me/permissions").text
    )


# --- the yes ----------------------------------------------------------------------------------


def test_the_yes_to_browser_notifications_is_recorded_with_the_source_push(
    app: Flask, robin: FlaskClient
) -> None:
    from app.consent.ledger.consents import history
    from app.consent.scopes import get_scope

    page = robin.get("/me/permissions").text
    (form,) = re.findall(r'<form [^>]*action="/me/permissions/new-stickers/choices"[^>]*>', page)
    assert 'data-push-form data-vapid-key="' in form  # the switches' form asks the browser
    assert 'data-subscribe-url="/me/push/subscriptions"' in form
    assert can_switch_on(page, "new-stickers", "push")
    response = save_switches(robin, "new-stickers", on=("push",), html=page)
    assert response.status_code == 302
    with app.app_context():
        (grant,) = history(member_id(app, "robin@example.com"))
        words = get_scope("new-stickers").wording_for("push")
    assert (grant.action, grant.scope, grant.channel, grant.source) == (
        "grant",
        "new-stickers",
        "push",
        "push",
    )
    assert grant.wording == words and grant.page == "/me/permissions"


def test_a_yes_on_another_channel_keeps_its_own_source(app: Flask, robin: FlaskClient) -> None:
    from app.consent.ledger.consents import history

    save_switches(robin, "new-stickers", on=("email",))
    with app.app_context():
        (grant,) = history(member_id(app, "robin@example.com"))
    assert (grant.channel, grant.source) == ("email", "preferences")
