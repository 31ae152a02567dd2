"""Export holds everything; deletion needs re-authentication, pseudonymises the ledger without
touching a row, and leaves nothing personal; the whole journey keeps the ledger append-only."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, select

from app.accounts import members
from app.consent import webhooks
from app.consent.gate import contacts
from app.consent.models import ConsentEvent, ConsentSubject
from app.extensions import db
from tests.conftest import PASSWORD, Clock
from tests.consent.pages import confirm, forms, request_subscription, save_switches
from tests.helpers import SMTPSink, link_in, post_form, sign_in

EMAIL = "journey@example.com"


def ledger_rows(app: Flask) -> list[tuple[Any, ...]]:
    with app.app_context():
        return [
            tuple(row)
            for row in db.session.execute(select(ConsentEvent.__table__).order_by(ConsentEvent.id))
        ]


def everything(app: Flask) -> list[tuple[str, str, Any]]:
    """Every value in every table, as (table, column, value)."""
    with app.app_context():
        metadata = MetaData()
        metadata.reflect(db.engine)
        found = []
        for table in metadata.sorted_tables:
            for row in db.session.execute(select(table)).mappings():
                found.extend((table.name, column, value) for column, value in row.items())
        return found


def journey(app: Flask, client: FlaskClient, smtp: SMTPSink, clock: Clock) -> int:
    """Subscribe by mail, say yes and no on the page, get messages, engage, say not for me."""
    request_subscription(client, EMAIL)
    confirm(client, link_in(smtp.wait_for(1)[0], "/subscriptions/confirm/"))
    clock.advance(hours=1)
    save_switches(client, "newsletter", on=("inbox",))
    clock.advance(hours=1)
    page = client.get("/me/permissions").text
    client.post(
        "/me/permissions/newsletter/email/stop",
        data=forms(page, "/me/permissions/newsletter/email/stop")[0],
    )
    post_form(client, "/me/permissions/pause", {"pause-days": "3"}, page="/me/permissions")
    post_form(
        client,
        "/me/permissions/quiet-hours",
        {"quiet-start": "21:30", "quiet-end": "06:45", "quiet-time_zone": "Europe/Paris"},
        page="/me/permissions",
    )
    with app.app_context():
        member = members.find_by_email(EMAIL)
        assert member is not None
        webhooks.add_endpoint(member.id, "http://127.0.0.1:9/hook", clock(), allow_loopback=True)
        contacts.record_contact(
            member.id,
            "newsletter",
            "inbox",
            campaign="letter-1",
            kind="editorial",
            ref="delivery-1",
            sent_at=clock(),
        )
        contacts.record_engagement("delivery-1", clock() + timedelta(minutes=5), "read")
        contacts.not_for_me(member.id, "newsletter", clock() + timedelta(minutes=6))
        contacts.record_suppression(EMAIL, "complaint", clock())
        db.session.commit()
        return member.id


def test_export_holds_everything_the_consent_area_keeps(
    app: Flask, client: FlaskClient, smtp: SMTPSink, clock: Clock
) -> None:
    journey(app, client, smtp, clock)
    response = client.get("/me/permissions/export")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.text)
    assert data["account"]["email"] == EMAIL
    consent = data["consent"]
    assert [(e["action"], e["channel"]) for e in consent["consent_history"]] == [
        ("revoke", "email"),
        ("grant", "inbox"),
        ("grant", "email"),
    ]
    assert consent["consent_history"][-1]["wording"].startswith("Yes, send me the weekly")
    assert {(p["channel"], p["granted"]) for p in consent["permissions"]} == {
        ("email", False),
        ("inbox", True),
    }
    assert consent["preferences"] == {
        "paused_until": consent["preferences"]["paused_until"],
        "quiet_hours_start": "21:30",
        "quiet_hours_end": "06:45",
    }
    assert consent["preferences"]["paused_until"] is not None
    assert consent["webhook_endpoints"][0]["url"] == "http://127.0.0.1:9/hook"
    assert "whsec_" not in response.text  # secrets are keys, not data about the member
    assert consent["messages"][0]["engaged_how"] == "read"
    assert consent["paused_scopes"][0]["not_for_me_at"] is not None
    assert consent["subscription_requests"][0]["scope"] == "newsletter"
    assert consent["email_suppressed"] is True


def test_deleting_after_a_full_journey_keeps_every_ledger_row_and_nothing_personal(
    app: Flask, client: FlaskClient, smtp: SMTPSink, clock: Clock
) -> None:
    member_id = journey(app, client, smtp, clock)
    before = ledger_rows(app)
    assert len(before) == 3

    page = client.get("/me/permissions/delete")
    assert "we send a link to" in page.text  # passwordless: re-authenticate by mail
    response = post_form(client, "/me/permissions/delete", {"understood": "y"})
    assert response.status_code == 302
    link = link_in(smtp.wait_for(2)[1], "/me/permissions/delete/")
    other_browser = app.test_client()
    assert "Delete the account of" in other_browser.get(link).text
    response = post_form(other_browser, link, {})
    assert response.status_code == 302

    after = ledger_rows(app)
    assert after[: len(before)] == before  # not one byte of the earlier events changed
    assert len(after) == len(before) + 1  # the yes that still stood ends with the account
    with app.app_context():
        ended = db.session.scalars(select(ConsentEvent).order_by(ConsentEvent.id.desc())).first()
        assert ended is not None
        assert (ended.action, ended.channel, ended.source) == ("revoke", "inbox", "deletion")
        assert ended.wording == (
            "Nobody pressed or typed a stop: the yes to The weekly letter "
            "in your inbox on this site ended because the member deleted "
            "their account."
        )
        [subject] = db.session.scalars(select(ConsentSubject)).all()
        assert (subject.member_id, subject.salt) == (None, None)
        assert subject.pseudonymised_at is not None
    for table, column, value in everything(app):
        assert EMAIL not in str(value) and "journey" not in str(value), (table, column)
        if column == "member_id":
            assert value != member_id, table
    assert client.get("/me/permissions").status_code == 302  # the old session is over
    assert other_browser.get(link).status_code == 400


def test_deletion_with_a_password_needs_the_right_one(
    app: Flask, client: FlaskClient, member: Any
) -> None:
    sign_in(client, "reader@example.com", PASSWORD)
    response = post_form(
        client, "/me/permissions/delete", {"password": "not my password", "understood": "y"}
    )
    assert response.status_code == 400 and "Your password is not right." in response.text
    response = post_form(client, "/me/permissions/delete", {"password": PASSWORD})
    assert response.status_code == 400 and "Tick the box to confirm." in response.text
    with app.app_context():
        assert members.find_by_email("reader@example.com") is not None
    response = post_form(
        client,
        "/me/permissions/delete",
        {"password": PASSWORD, "understood": "y"},
        follow_redirects=True,
    )
    assert "Your account is deleted." in response.text
    with app.app_context():
        assert members.find_by_email("reader@example.com") is None


def test_receipts_in_html_and_json_and_only_for_their_member(
    app: Flask, client: FlaskClient, smtp: SMTPSink, clock: Clock, member: Any
) -> None:
    journey(app, client, smtp, clock)
    history = client.get("/me/permissions/history").text
    assert history.count('class="timeline-item') == 3
    assert "Through the subscription form (/subscribe/newsletter?from=footer)" in history
    with app.app_context():
        first = db.session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)).first()
        assert first is not None
        receipt = first.receipt
    page = client.get(f"/me/permissions/receipts/{receipt}")
    assert page.status_code == 200
    assert "You said yes to" in page.text and first.wording in page.text
    assert first.wording_hash in page.text and "Pullfirst Journal" in page.text
    data = json.loads(client.get(f"/me/permissions/receipts/{receipt}.json").text)
    assert data["consent"]["wording"] == first.wording
    assert data["consent"]["page"] == "/subscribe/newsletter?from=footer"
    assert data["subject"]["email"] == EMAIL
    assert data["controller"]["postal_address"].startswith("Pullfirst Journal")

    someone_else = app.test_client()
    sign_in(someone_else, "reader@example.com", PASSWORD)
    assert someone_else.get(f"/me/permissions/receipts/{receipt}").status_code == 404
    assert someone_else.get(f"/me/permissions/receipts/{receipt}.json").status_code == 404
    assert app.test_client().get(f"/me/permissions/receipts/{receipt}").status_code == 302
