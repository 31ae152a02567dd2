"""Members through the API: recording a purchase (which runs the earning rules), reading a
member and their consent, reading campaigns; and the rule that nothing in the API can grant
consent."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from tests.api.conftest import bearer, problem
from tests.conftest import Clock


@pytest.fixture
def shop(demo_content: object) -> None:
    """The demo content, whose ``offers`` scope is earned by ``purchase:*``."""


def record(client: FlaskClient, key: str, email: str, action: str = "purchase:sku-123"):
    return client.post(
        "/api/v1/actions", json={"email": email, "action": action}, headers=bearer(key)
    )


def test_a_purchase_earns_what_the_rules_say_once(
    shop: None, app: Flask, client: FlaskClient, key: str, member: Any
) -> None:
    response = record(client, key, "Reader@Example.COM")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["recorded"] is True and body["member_id"] == member.id
    assert {"reward": "scope:offers", "kind": "scope", "title": "Member offers"} in body["rewards"]
    again = record(client, key, "reader@example.com")
    assert again.status_code == 201
    assert again.get_json() == {**body, "recorded": False, "rewards": []}
    from app.engage.actions import has_action

    with app.app_context():
        assert has_action(member.id, "purchase:sku-123")


def test_an_unknown_address_is_a_404_and_creates_nobody(
    app: Flask, client: FlaskClient, key: str
) -> None:
    from app.accounts.models import Member
    from app.extensions import db

    response = record(client, key, "stranger@example.com")
    assert response.status_code == 404 and problem(response)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Member)) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"email": "reader@example.com", "action": "code:spring-store"},
        {"email": "reader@example.com", "action": "survey:reader-2026"},
        {"email": "reader@example.com", "action": "purchase:"},
        {"email": "not an address", "action": "purchase:sku-1"},
        {"email": "reader@example.com"},
    ],
)
def test_only_purchases_by_a_well_formed_address(
    client: FlaskClient, key: str, member: Any, body: dict[str, str]
) -> None:
    response = client.post("/api/v1/actions", json=body, headers=bearer(key))
    assert response.status_code == 422
    assert problem(response)["errors"]


def test_a_member_by_address_by_query_or_by_id(
    app: Flask, client: FlaskClient, key: str, member: Any
) -> None:
    by_address = client.get("/api/v1/members/READER@example.com", headers=bearer(key))
    assert by_address.status_code == 200
    body = by_address.get_json()
    assert body["id"] == member.id and body["email"] == "reader@example.com"
    assert body["confirmed"] is True and body["joined"]
    assert "newsletter" in body["scopes"]
    assert any(r["reward"] == "scope:newsletter" for r in body["rewards"])
    by_query = client.get("/api/v1/members?email=reader@example.com", headers=bearer(key))
    by_id = client.get(f"/api/v1/members/{member.id}", headers=bearer(key))
    assert by_query.get_json() == by_id.get_json() == body
    for missing in ("/api/v1/members/nobody@example.com", "/api/v1/members/99999999999"):
        assert client.get(missing, headers=bearer(key)).status_code == 404
    query = client.get("/api/v1/members?email=12", headers=bearer(key))
    assert query.status_code == 404  # an email query never looks up an id
    assert client.get("/api/v1/members", headers=bearer(key)).status_code == 400


def test_a_deleted_member_is_not_found(
    app: Flask, client: FlaskClient, key: str, member: Any, clock: Clock
) -> None:
    from app.accounts.members import get_member
    from app.extensions import db

    with app.app_context():
        found = get_member(member.id)
        assert found is not None
        found.deleted_at = clock()
        db.session.commit()
    assert client.get("/api/v1/members/reader@example.com", headers=bearer(key)).status_code == 404


def test_consent_shows_each_earned_scope_and_channel_with_its_receipt(
    app: Flask, client: FlaskClient, key: str, member: Any, clock: Clock
) -> None:
    from app.consent.ledger.consents import Origin, grant_consent
    from app.consent.scopes import get_scope
    from app.extensions import db

    with app.app_context():
        scope = get_scope("newsletter")
        granted = grant_consent(
            member.id, scope, "email", scope.wording_for("email"), Origin("preferences"), clock()
        )
        assert granted is not None
        receipt = granted.receipt
        db.session.commit()
    response = client.get("/api/v1/members/reader@example.com/consent", headers=bearer(key))
    assert response.status_code == 200
    body = response.get_json()
    states = {(s["scope"], s["channel"]): s for s in body["states"]}
    email = states[("newsletter", "email")]
    assert email["granted"] is True and email["receipt"] == receipt and email["since"]
    assert email["wording_version"] == email["current_wording_version"] == 1
    inbox = states[("newsletter", "inbox")]
    assert inbox["granted"] is False and inbox["answered"] is False and inbox["receipt"] is None
    assert [e["receipt"] for e in body["events"]] == [receipt]
    assert body["events"][0]["wording"] == scope.wording_for("email")


def _campaign(app: Flask, clock: Clock, title: str, member_id: int | None = None) -> int:
    from app.consent.ledger.consents import Origin, grant_consent
    from app.consent.scopes import get_scope
    from app.extensions import db
    from app.notify.campaigns import Draft, create_campaign, send_now

    with app.app_context():
        campaign = create_campaign(
            Draft(title, "Hello.", "newsletter", "editorial", ("inbox",)), None, clock()
        )
        if member_id is not None:
            scope = get_scope("newsletter")
            grant_consent(
                member_id,
                scope,
                "inbox",
                scope.wording_for("inbox"),
                Origin("preferences"),
                clock(),
            )
            db.session.flush()
            clock.advance(days=2)
            send_now(campaign, clock())
        db.session.commit()
        return campaign.id


def test_campaigns_page_through_newest_first_with_results(
    app: Flask, client: FlaskClient, key: str, member: Any, clock: Clock
) -> None:
    sent = _campaign(app, clock, "Sent one", member.id)
    ids = [sent] + [_campaign(app, clock, f"Draft {n}") for n in range(4)]
    first = client.get("/api/v1/campaigns?limit=2", headers=bearer(key)).get_json()
    assert [c["id"] for c in first["items"]] == ids[::-1][:2]
    second = client.get(
        f"/api/v1/campaigns?limit=2&cursor={first['next_cursor']}", headers=bearer(key)
    ).get_json()
    third = client.get(
        f"/api/v1/campaigns?limit=2&cursor={second['next_cursor']}", headers=bearer(key)
    ).get_json()
    assert [c["id"] for c in second["items"] + third["items"]] == ids[::-1][2:]
    assert third["next_cursor"] is None
    one = client.get(f"/api/v1/campaigns/{sent}", headers=bearer(key)).get_json()
    assert one["state"] in ("sending", "sent") and one["scope"] == "newsletter"
    assert one["kind"] == "editorial" and one["channels"] == ["inbox"] and one["enqueued_at"]
    from app.notify.campaigns import get_campaign
    from app.notify.funnel_people import people_funnel
    from app.notify.results import funnel

    with app.app_context():
        campaign = get_campaign(sent)
        assert campaign is not None
        people, counts = people_funnel(campaign), funnel(campaign)
    results = one["results"]
    assert results["people_queued"] == people.people_queued == 1
    assert results["people_reached"] == people.people_reached
    assert results["deliveries_sent"] == counts["sent"]
    assert results["deliveries_waiting"] == counts["queued"] + counts["retrying"]
    assert client.get("/api/v1/campaigns/999", headers=bearer(key)).status_code == 404
    for bad in ("limit=0", "limit=101", "limit=x", "cursor=abc", "limit=1&limit=2", "other=1"):
        response = client.get(f"/api/v1/campaigns?{bad}", headers=bearer(key))
        assert response.status_code == 400, bad
        assert problem(response)["errors"]


# --- nothing in the API can grant consent ---------------------------------------------------

#: Every route under /api/ that takes a write method: a new one must be added here, with a
#: request that exercises it, so that this test covers it.
WRITE_ROUTES = {"api.mint_codes", "api.record_action", "api.nowhere"}


def _tables_written(statement: str) -> set[str]:
    upper = statement.lstrip().upper()
    if not upper.startswith(("INSERT", "UPDATE", "DELETE")):
        return set()
    match = re.search(r"(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", statement, re.I)
    return {match.group(1)} if match else set()


def test_no_write_route_under_api_touches_the_consent_tables(
    shop: None, app: Flask, client: FlaskClient, key: str, member: Any, batch: str
) -> None:
    from app.consent.models import ConsentEvent, ConsentState, ConsentSubject
    from app.database.core import Base
    from app.extensions import db

    routes = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        and (rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}
    }
    assert routes == WRITE_ROUTES
    consent_tables = {t.__tablename__ for t in (ConsentEvent, ConsentState, ConsentSubject)} | {
        name for name in Base.metadata.tables if name.startswith("consent")
    }
    written: set[str] = set()

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        written.update(_tables_written(statement))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            client.open(
                "/api/v1/actions",
                method=method,
                json={"email": "reader@example.com", "action": "purchase:sku-9"},
                headers=bearer(key),
            )
            client.open(
                "/api/v1/batches/spring-store/codes",
                method=method,
                json={"count": 2},
                headers={**bearer(key), "Idempotency-Key": f"c-{method}"},
            )
            client.open(
                "/api/v1/members/reader@example.com/consent",
                method=method,
                json={"granted": True},
                headers=bearer(key),
            )
            client.open("/api/v1/consent", method=method, json={}, headers=bearer(key))
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert "actions" in written and "codes" in written  # the requests did their work
    assert "entitlements" in written  # the purchase earned the offers scope
    assert not written & consent_tables, written & consent_tables
