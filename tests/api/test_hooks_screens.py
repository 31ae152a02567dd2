"""Admin → Event webhooks: only admins get in, every change needs the form's CSRF token, a
private or loopback address is a clear form error, and the buttons do what they say: a test
event, a new secret, disable and enable, the events, delete, and replay from the log."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.hooks_fixtures import Crm, deliver, endpoint_row, log, register
from tests.conftest import Clock
from tests.helpers import csrf_token
from tests.security.harness import staff_client

LIST = "/admin/event-webhooks/"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["WEBHOOK_ALLOW_LOOPBACK"] = True
    return app_config


def _post(
    client: FlaskClient, url: str, data: dict[str, Any] | None = None, page: str = LIST
) -> Any:
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(url, data={**(data or {}), "csrf_token": token})


def _add(client: FlaskClient, url: str, **fields: Any) -> Any:
    return _post(client, LIST, {"url": url, "description": "The CRM", **fields})


def _queue(app: Flask, clock: Clock, count: int) -> None:
    """``count`` events, as if members had said yes ``count`` times."""
    from app.api.hooks import queue_event
    from app.api.hooks_terms import EventType
    from app.extensions import db

    with app.app_context():
        for n in range(count):
            queue_event(EventType.CONSENT_GRANTED, None, lambda n=n: {"n": n}, clock())
        db.session.commit()


def test_only_admins_open_the_screens(app: Flask, clock: Clock, admin: FlaskClient) -> None:
    with Crm(clock) as crm:
        endpoint_id = register(app, clock, crm)
    pages = [LIST, f"{LIST}{endpoint_id}"]
    visitor = app.test_client()
    for page in pages:
        response = visitor.get(page)
        assert response.status_code == 302 and "/signin" in response.headers["Location"]
    token = csrf_token(admin.get(LIST).get_data(as_text=True))
    for role in ("member", "editor", "marketer"):
        client = staff_client(app, clock, role)
        for page in pages:
            assert client.get(page).status_code == 403, (role, page)
        own_token = csrf_token(client.get("/me/account").get_data(as_text=True))
        for action in ("rotate", "disable", "test", "delete"):
            response = client.post(
                f"{LIST}{endpoint_id}/{action}", data={"csrf_token": own_token, "understood": "y"}
            )
            assert response.status_code == 403, (role, action)
        assert "Event webhooks" not in client.get("/admin/").get_data(as_text=True)
    assert endpoint_row(app, endpoint_id).disabled_at is None
    assert token and admin.get(pages[1]).status_code == 200
    assert "Event webhooks" in admin.get("/admin/").get_data(as_text=True)


def test_a_change_without_the_forms_token_is_refused(
    app: Flask, clock: Clock, admin: FlaskClient
) -> None:
    with Crm(clock) as crm:
        endpoint_id = register(app, clock, crm)
    _queue(app, clock, 1)
    [row] = log(app)
    before = endpoint_row(app, endpoint_id).secret
    for url, data in [
        (LIST, {"url": "https://crm.example.com/hooks"}),
        (f"{LIST}{endpoint_id}/rotate", {}),
        (f"{LIST}{endpoint_id}/disable", {}),
        (f"{LIST}{endpoint_id}/delete", {"understood": "y"}),
        (f"{LIST}{endpoint_id}/deliveries/{row.id}/replay", {}),
    ]:
        response = admin.post(url, data=data)
        assert response.status_code == 400, url
        assert "This form expired or came from another site" in response.get_data(as_text=True)
    after = endpoint_row(app, endpoint_id)
    assert after.secret == before and after.disabled_at is None
    assert len(log(app)) == 1


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("https://127.0.0.1/hooks", "127.0.0.1 leads to a loopback address"),
        ("https://10.20.30.40/hooks", "10.20.30.40 leads to a private network address"),
        ("https://169.254.169.254/latest", "leads to a cloud metadata address"),
        ("https://[::ffff:192.168.1.9]/hooks", "a private network address"),
        ("http://93.184.216.34/hooks", "Use an https:// address."),
        ("https://user:pw@93.184.216.34/hooks", "must not contain a user name or password"),
    ],
)
def test_an_address_that_is_not_public_https_is_a_form_error(
    app: Flask, clock: Clock, admin: FlaskClient, url: str, error: str
) -> None:
    app.config["WEBHOOK_ALLOW_LOOPBACK"] = False  # as on a real site
    response = _add(admin, url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert error in page
    assert 'aria-invalid="true"' in page
    from app.api.hooks import endpoints

    with app.app_context():
        assert endpoints() == []


def test_an_admin_adds_an_endpoint_for_some_events_and_sees_its_secret(
    app: Flask, clock: Clock, admin: FlaskClient
) -> None:
    with Crm(clock) as crm:
        refused = _add(admin, crm.url, every="some")
        assert "Tick at least one event, or choose every event." in refused.get_data(as_text=True)
        response = _add(admin, crm.url, every="some", events=["consent.granted", "consent.revoked"])
        assert response.status_code == 302
        page = admin.get(response.headers["Location"]).get_data(as_text=True)
        again = _add(admin, crm.url)
        assert "This address is registered already." in again.get_data(as_text=True)
    endpoint_id = int(response.headers["Location"].rsplit("/", 1)[1])
    endpoint = endpoint_row(app, endpoint_id)
    assert endpoint.events == "consent.granted,consent.revoked"
    assert endpoint.description == "The CRM"
    assert endpoint.secret.startswith("whsec_") and endpoint.secret in page
    assert re.search(r'<input checked[^>]*value="consent.granted"', page)
    assert re.search(r'<input (?!checked)[^>]*value="member.confirmed"', page)
    listing = admin.get(LIST).get_data(as_text=True)
    assert "consent.granted, consent.revoked" in listing and crm.url in listing


def test_the_test_button_sends_a_signed_test_event_and_says_what_came_back(
    app: Flask, clock: Clock, admin: FlaskClient
) -> None:
    with Crm(clock, answers=["204", "500"]) as crm:
        endpoint_id = register(app, clock, crm)
        page = f"{LIST}{endpoint_id}"
        accepted = _post(admin, f"{page}/test", page=page)
        assert accepted.status_code == 302
        shown = admin.get(page).get_data(as_text=True)
        assert "The endpoint accepted the test event (HTTP 204)." in shown
        _post(admin, f"{page}/test", page=page)
        shown = admin.get(page).get_data(as_text=True)
    assert "The endpoint did not accept the test event. Answered 500: nope" in shown
    first, second = crm.received
    assert first.type == "endpoint.test" and first.verified
    assert first.data["endpoint"] == endpoint_id and first.data["sent_by"] == "admin@example.com"
    assert first.headers["webhook-id"] != second.headers["webhook-id"]
    sent, waiting = log(app, endpoint_id)
    assert (sent.state, sent.attempts, sent.last_status) == ("sent", 1, 204)
    assert (waiting.state, waiting.attempts, waiting.last_status) == ("pending", 1, 500)


def test_a_new_secret_disable_enable_and_the_events_from_the_page(
    app: Flask, clock: Clock, admin: FlaskClient
) -> None:
    with Crm(clock) as crm:
        endpoint_id = register(app, clock, crm)
    page = f"{LIST}{endpoint_id}"
    old = endpoint_row(app, endpoint_id).secret
    assert _post(admin, f"{page}/rotate", page=page).status_code == 302
    shown = admin.get(page).get_data(as_text=True)
    new = endpoint_row(app, endpoint_id).secret
    assert new != old and new in shown and old not in shown
    assert "also signed with the secret this one replaced" in shown

    _post(admin, f"{page}/disable", page=page)
    endpoint = endpoint_row(app, endpoint_id)
    assert endpoint.disabled_at == clock()
    assert endpoint.disabled_reason == "Disabled by admin@example.com."
    assert "Disabled by admin@example.com." in admin.get(page).get_data(as_text=True)
    _post(admin, f"{page}/enable", page=page)
    assert endpoint_row(app, endpoint_id).disabled_at is None

    response = _post(
        admin,
        f"{page}/events",
        {"description": "Sales CRM", "every": "some", "events": ["reply.received"]},
        page=page,
    )
    assert response.status_code == 302
    endpoint = endpoint_row(app, endpoint_id)
    assert (endpoint.events, endpoint.description) == ("reply.received", "Sales CRM")
    _post(admin, f"{page}/events", {"description": "", "every": "all"}, page=page)
    assert endpoint_row(app, endpoint_id).events is None


def test_delete_asks_for_the_tick_then_takes_the_log_with_it(
    app: Flask, clock: Clock, admin: FlaskClient
) -> None:
    with Crm(clock) as crm:
        endpoint_id = register(app, clock, crm)
    _queue(app, clock, 2)
    page = f"{LIST}{endpoint_id}"
    response = _post(admin, f"{page}/delete", page=page)
    assert response.status_code == 200
    assert "Tick the box to delete the endpoint." in response.get_data(as_text=True)
    assert endpoint_row(app, endpoint_id) is not None
    response = _post(admin, f"{page}/delete", {"understood": "y"}, page=page)
    assert response.status_code == 302 and response.headers["Location"].endswith(LIST)
    assert endpoint_row(app, endpoint_id) is None
    assert log(app) == []
    assert admin.get(page).status_code == 404


def test_replay_from_the_log_queues_the_same_message_again(
    app: Flask, clock: Clock, admin: FlaskClient
) -> None:
    with Crm(clock) as crm, Crm(clock) as other:
        endpoint_id = register(app, clock, crm)
        other_id = register(app, clock, other)
        _queue(app, clock, 1)
        deliver(app)
        [original] = log(app, endpoint_id)
        [others] = log(app, other_id)
        page = f"{LIST}{endpoint_id}"
        shown = admin.get(page).get_data(as_text=True)
        assert original.message_id in shown and "Replay" in shown
        wrong = _post(admin, f"{page}/deliveries/{others.id}/replay", page=page)
        assert wrong.status_code == 404
        clock.advance(hours=1)
        response = _post(admin, f"{page}/deliveries/{original.id}/replay", page=page)
        assert response.status_code == 302
        assert deliver(app) == {"sent": 1}
    assert [r.headers["webhook-id"] for r in crm.received] == [original.message_id] * 2
    assert len(other.received) == 1
    _, replayed = log(app, endpoint_id)
    assert replayed.replay_of == original.id and replayed.state == "sent"
    assert f"replay of #{original.id}" in admin.get(page).get_data(as_text=True)


def test_the_log_shows_the_latest_first_fifty_to_a_page(
    app: Flask, clock: Clock, admin: FlaskClient
) -> None:
    with Crm(clock) as crm:
        endpoint_id = register(app, clock, crm)
    _queue(app, clock, 60)
    rows = log(app, endpoint_id)
    page = f"{LIST}{endpoint_id}"
    first = admin.get(page).get_data(as_text=True)
    assert "Page 1 of 2" in first
    replay = 'class="button button-small button-quiet">Replay<'
    assert first.count(replay) == 50
    assert first.index(rows[-1].message_id) < first.index(rows[-2].message_id)
    assert rows[0].message_id not in first
    second = admin.get(f"{page}?page=2").get_data(as_text=True)
    assert second.count(replay) == 10 and rows[0].message_id in second
    for hostile in ("0", "-5", "99999999999999999999", "x"):
        assert admin.get(f"{page}?page={hostile}").status_code == 200
