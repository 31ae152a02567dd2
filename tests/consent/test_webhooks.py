"""Webhook endpoints under the test setting that allows loopback: verified by a signed challenge
against a real local receiver, limited in number, and out of reach of other members."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.accounts import members
from app.consent import webhooks
from app.consent.models import ConsentEvent, WebhookEndpoint
from app.extensions import db
from app.outbound import client as outbound
from app.outbound import signing
from app.outbound.errors import WebhookFailed
from tests.conftest import PASSWORD, Clock
from tests.consent.receiver import Receiver
from tests.helpers import post_form, sign_in


def _member(app: Flask, clock: Clock, email: str) -> int:
    with app.app_context():
        member = members.create_member(email, PASSWORD, now=clock(), verified=True)
        db.session.commit()
        return member.id


def _endpoints(app: Flask) -> list[WebhookEndpoint]:
    with app.app_context():
        return list(db.session.scalars(select(WebhookEndpoint)))


def _ledger(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(ConsentEvent)) or 0)


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["WEBHOOK_ALLOW_LOOPBACK"] = True
    return app_config


def test_an_endpoint_is_verified_by_answering_the_signed_challenge(
    app: Flask, client: FlaskClient, member: Any, clock: Clock
) -> None:
    sign_in(client, "reader@example.com", PASSWORD)
    with Receiver("echo") as receiver:
        response = post_form(
            client,
            "/me/permissions/webhooks",
            {"webhook-url": receiver.url},
            page="/me/permissions",
        )
        assert response.status_code == 302
        [endpoint] = _endpoints(app)
        assert endpoint.verified_at is None and endpoint.secret.startswith("whsec_")
        page = client.get("/me/permissions").text
        assert receiver.url in page and "Not verified yet" in page and endpoint.secret in page
        response = post_form(
            client,
            f"/me/permissions/webhooks/{endpoint.id}/verify",
            {},
            page="/me/permissions",
            follow_redirects=True,
        )
        assert "it answered the signed challenge" in response.text
        [(path, headers, body)] = receiver.requests
    assert path == "/hooks/pullfirst"
    assert signing.verify_signature(endpoint.secret, headers, body, clock())
    assert not signing.verify_signature("whsec_" + "A" * 32, headers, body, clock())
    assert b'"type":"endpoint.verification"' in body
    [verified] = _endpoints(app)
    assert verified.verified_at is not None


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("wrong", "not with the challenge"),
        ("redirect", "redirects are not followed"),
        ("error", "answered 500"),
    ],
)
def test_an_endpoint_that_does_not_echo_the_challenge_stays_unverified(
    app: Flask, client: FlaskClient, member: Any, clock: Clock, mode: str, message: str
) -> None:
    with app.app_context():
        endpoint = webhooks.add_endpoint(
            member.id, "http://127.0.0.1:1/x", clock(), allow_loopback=True
        )
        db.session.commit()
    sign_in(client, "reader@example.com", PASSWORD)
    with Receiver(mode) as receiver:
        with app.app_context():
            db.session.get(WebhookEndpoint, endpoint.id).url = receiver.url  # type: ignore[union-attr]
            db.session.commit()
        response = post_form(
            client,
            f"/me/permissions/webhooks/{endpoint.id}/verify",
            {},
            page="/me/permissions",
            follow_redirects=True,
        )
        assert len(receiver.requests) == 1  # the redirect was not followed
    assert message in response.text
    assert _endpoints(app)[0].verified_at is None


def test_a_slow_endpoint_times_out() -> None:
    with Receiver("slow") as receiver, pytest.raises(WebhookFailed):
        outbound.post(receiver.url, b"{}", {}, allow_loopback=True, timeout=0.5)


def test_another_members_endpoint_cannot_be_verified_or_removed(
    app: Flask, client: FlaskClient, member: Any, clock: Clock
) -> None:
    other = _member(app, clock, "other@example.com")
    with app.app_context():
        endpoint = webhooks.add_endpoint(
            other, "http://127.0.0.1:1/x", clock(), allow_loopback=True
        )
        db.session.commit()
    sign_in(client, "reader@example.com", PASSWORD)
    for action in ("verify", "remove"):
        response = post_form(
            client, f"/me/permissions/webhooks/{endpoint.id}/{action}", {}, page="/me/permissions"
        )
        assert response.status_code == 404
    assert len(_endpoints(app)) == 1


def test_a_member_removes_their_endpoint_and_is_limited_to_five(
    app: Flask, client: FlaskClient, member: Any, clock: Clock
) -> None:
    with app.app_context():
        for n in range(5):
            webhooks.add_endpoint(
                member.id, f"http://127.0.0.1:1/{n}", clock(), allow_loopback=True
            )
        db.session.commit()
    sign_in(client, "reader@example.com", PASSWORD)
    response = post_form(
        client,
        "/me/permissions/webhooks",
        {"webhook-url": "http://127.0.0.1:1/6"},
        page="/me/permissions",
    )
    assert response.status_code == 400 and "at most 5 endpoints" in response.text
    first = _endpoints(app)[0]
    response = post_form(
        client, f"/me/permissions/webhooks/{first.id}/remove", {}, page="/me/permissions"
    )
    assert response.status_code == 302 and len(_endpoints(app)) == 4
