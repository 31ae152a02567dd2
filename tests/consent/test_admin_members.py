"""The marketers' member screens: find a member, read the gate's reasoning per scope and
channel, record a stop the member asked for; closed to members without the role."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.accounts import members
from app.consent.ledger import consents
from app.consent.ledger.consents import Origin
from app.consent.scopes import get_scope
from app.extensions import db
from tests.conftest import PASSWORD, Clock
from tests.helpers import post_form, sign_in


def _marketer(app: Flask, clock: Clock) -> FlaskClient:
    with app.app_context():
        members.create_member(
            "marketer@example.com", PASSWORD, now=clock(), role="marketer", verified=True
        )
        db.session.commit()
    client = app.test_client()
    sign_in(client, "marketer@example.com", PASSWORD)
    return client


def test_a_marketer_finds_a_member_and_sees_what_the_gate_decides(
    app: Flask, member: Any, clock: Clock
) -> None:
    with app.app_context():
        scope = get_scope("newsletter")
        consents.grant_consent(
            member.id,
            scope,
            "email",
            scope.wording,
            Origin("preferences"),
            clock() - timedelta(days=2),
        )
        db.session.commit()
    client = _marketer(app, clock)
    assert "Members" in client.get("/admin/").text
    listing = client.get("/admin/members/?q=READER").text
    assert ">reader@example.com</a>" in listing and ">marketer@example.com</a>" not in listing
    page = client.get(f"/admin/members/{member.id}").text
    assert "The weekly letter · Email:" in page and "allowed" in page
    assert "The weekly letter · Inbox on this site:" in page
    assert "not allowed (consented)" in page
    assert "Said yes on" in page and "Never said yes to The weekly letter by inbox." in page
    later = client.get(f"/admin/members/{member.id}?at=2000-01-01T09:00").text
    assert "Decide" in later and "cooldown" in later
    assert client.get("/admin/members/999999").status_code == 404


def test_a_marketer_records_a_stop_but_never_a_yes(app: Flask, member: Any, clock: Clock) -> None:
    with app.app_context():
        scope = get_scope("newsletter")
        consents.grant_consent(
            member.id, scope, "email", scope.wording, Origin("preferences"), clock()
        )
        db.session.commit()
    client = _marketer(app, clock)
    url = f"/admin/members/{member.id}"
    response = post_form(client, f"{url}/newsletter/email/stop", {}, page=url)
    assert response.status_code == 302
    with app.app_context():
        revoke = consents.history(member.id)[0]
        assert (revoke.action, revoke.source) == ("revoke", "admin")
    assert not any(
        rule.endpoint.startswith("admin.") and "yes" in rule.rule
        for rule in app.url_map.iter_rules()
    )


def test_members_without_the_role_cannot_open_the_screens(
    app: Flask, client: FlaskClient, member: Any
) -> None:
    assert client.get("/admin/members/").status_code == 302  # to sign in
    sign_in(client, "reader@example.com", PASSWORD)
    assert client.get("/admin/members/").status_code == 403
    assert client.get(f"/admin/members/{member.id}").status_code == 403
    assert (
        post_form(
            client, f"/admin/members/{member.id}/newsletter/email/stop", {}, page="/me/permissions"
        ).status_code
        == 403
    )
