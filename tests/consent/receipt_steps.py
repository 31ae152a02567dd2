"""Steps shared by the receipt tests: a real grant and revoke on the permissions page, a
receipt's JSON, and the keys the site publishes."""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask.testing import FlaskClient
from sqlalchemy import select

from app.consent.ledger.keys import keys_in
from app.consent.models import ConsentEvent
from app.extensions import db
from tests.conftest import Clock
from tests.consent.pages import forms, save_switches

KEYS_URL = "/.well-known/pullfirst-receipt-keys.json"


def grant_then_revoke(client: FlaskClient, clock: Clock) -> list[str]:
    """Say yes to the weekly letter by email on the permissions page (its switch), then stop it
    (one click); the two
    receipt ids, oldest first."""
    assert save_switches(client, "newsletter", on=("email",)).status_code == 302
    clock.advance(minutes=3)
    stop = "/me/permissions/newsletter/email/stop"
    assert (
        client.post(stop, data=forms(client.get("/me/permissions").text, stop)[0]).status_code
        == 302
    )
    events = list(db.session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)))
    assert [e.action for e in events] == ["grant", "revoke"]
    return [e.receipt for e in events]


def receipt_json(client: FlaskClient, receipt: str) -> dict[str, Any]:
    response = client.get(f"/me/permissions/receipts/{receipt}.json")
    assert response.status_code == 200
    data: dict[str, Any] = json.loads(response.text)
    return data


def published(client: FlaskClient) -> list[Ed25519PublicKey]:
    response = client.get(KEYS_URL)
    assert response.status_code == 200 and response.mimetype == "application/json"
    return keys_in(response.data, KEYS_URL)
