""" "Mail me this receipt": a system message to the member's own confirmed address, with the
signed JSON attached; only for the member's own receipts, with a CSRF token, five an hour."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.accounts import members
from app.consent.ledger.keys import keys_in
from app.consent.ledger.receipts import verify_receipt
from app.extensions import db
from tests.conftest import PASSWORD, Clock
from tests.consent.receipt_steps import KEYS_URL, grant_then_revoke
from tests.helpers import SMTPSink, csrf_token, sign_in, text_body


@pytest.fixture
def signed_in(client: FlaskClient, member: Any) -> FlaskClient:
    sign_in(client, "reader@example.com", PASSWORD)
    return client


@pytest.fixture
def receipts(app: Flask, signed_in: FlaskClient, clock: Clock, member: Any) -> list[str]:
    clock.set(datetime(2026, 12, 4, 15, 5, tzinfo=UTC))
    with app.app_context():
        found = members.get_member(member.id)
        assert found is not None
        members.update_profile(found, found.display_name, "America/New_York")
        db.session.commit()
        return grant_then_revoke(signed_in, clock)


def press_mail(client: FlaskClient, receipt: str) -> Any:
    page = client.get(f"/me/permissions/receipts/{receipt}")
    return client.post(
        f"/me/permissions/receipts/{receipt}/mail", data={"csrf_token": csrf_token(page.text)}
    )


def test_the_mail_arrives_with_the_signed_json_attached(
    app: Flask, signed_in: FlaskClient, receipts: list[str], smtp: SMTPSink
) -> None:
    grant, _ = receipts
    response = press_mail(signed_in, grant)
    assert response.status_code == 302
    assert response.location.endswith(f"/me/permissions/receipts/{grant}")
    assert "We sent this receipt to reader@example.com" in signed_in.get(response.location).text

    [message] = smtp.wait_for(1)
    assert smtp.envelopes[0][1] == ["reader@example.com"]
    assert message["Subject"] == "Your consent receipt: The weekly letter"
    assert message["Auto-Submitted"] == "auto-generated"
    assert "List-Unsubscribe" not in message  # a system message, not a campaign
    text = text_body(message)
    assert "4 December 2026, 10:05 EST" in text  # 15:05 UTC
    assert f"http://localhost/me/permissions/receipts/{grant}" in text
    assert message.get_body(preferencelist=("html",)) is not None

    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"receipt-{grant}.json"
    assert attachment.get_content_type() == "application/json"
    data = json.loads(attachment.get_content())
    assert data["receipt"] == grant and data["consent"]["action"] == "grant"
    keys = keys_in(app.test_client().get(KEYS_URL).data, KEYS_URL)
    assert verify_receipt(data, keys) == data["signature"]["key_id"]
    assert data["signature"]["key_id"] in text


def test_a_revoke_can_be_mailed_too(
    signed_in: FlaskClient, receipts: list[str], smtp: SMTPSink
) -> None:
    assert press_mail(signed_in, receipts[1]).status_code == 302
    [message] = smtp.wait_for(1)
    [attachment] = list(message.iter_attachments())
    assert json.loads(attachment.get_content())["consent"]["action"] == "revoke"


def test_without_a_csrf_token_nothing_is_sent(
    signed_in: FlaskClient, receipts: list[str], smtp: SMTPSink
) -> None:
    response = signed_in.post(f"/me/permissions/receipts/{receipts[0]}/mail")
    assert response.status_code == 400
    response = signed_in.post(
        f"/me/permissions/receipts/{receipts[0]}/mail", data={"csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert smtp.messages == []


def test_another_members_receipt_cannot_be_mailed(
    app: Flask, receipts: list[str], clock: Clock, smtp: SMTPSink
) -> None:
    with app.app_context():
        members.create_member("other@example.com", PASSWORD, now=clock(), verified=True)
        db.session.commit()
    other = app.test_client()
    sign_in(other, "other@example.com", PASSWORD)
    token = csrf_token(other.get("/me/account").text)
    for receipt in (*receipts, "unknown-receipt"):
        response = other.post(
            f"/me/permissions/receipts/{receipt}/mail", data={"csrf_token": token}
        )
        assert response.status_code == 404
        assert other.get(f"/me/permissions/receipts/{receipt}").status_code == 404
    assert smtp.messages == []


def test_five_an_hour_per_member(
    signed_in: FlaskClient, receipts: list[str], smtp: SMTPSink
) -> None:
    for _ in range(5):
        assert press_mail(signed_in, receipts[0]).status_code == 302
    assert press_mail(signed_in, receipts[1]).status_code == 429
    assert len(smtp.wait_for(5)) == 5


def test_an_unconfirmed_address_gets_no_mail(
    app: Flask, receipts: list[str], member: Any, signed_in: FlaskClient, smtp: SMTPSink
) -> None:
    with app.app_context():
        found = members.get_member(member.id)
        assert found is not None
        found.email_verified_at = None
        db.session.commit()
    page = signed_in.get(f"/me/permissions/receipts/{receipts[0]}").text
    assert "Mail me this receipt" not in page
    response = signed_in.post(
        f"/me/permissions/receipts/{receipts[0]}/mail",
        data={"csrf_token": csrf_token(page)},
        follow_redirects=True,
    )
    assert "we send receipts only to a confirmed address" in response.text
    assert smtp.messages == []
