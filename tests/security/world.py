"""Two members and what each owns, for the attacks of the sweep: member A with a survey
response, consent receipts, a webhook endpoint, a sticker pack and two signed-in browsers;
member B, signed in, with objects of the same kinds (so B's own requests have something to
act on) but no pack.

:func:`snapshot` reads every row of every table, so a test can show that an attack changed
nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, select

from app.consent import webhooks
from app.consent.ledger import consents
from app.consent.ledger.consents import Origin
from app.consent.scopes import find_scope
from app.engage import responses
from app.extensions import db
from app.notify import conversation
from app.notify.campaigns import Draft, create_campaign
from app.notify.models import Delivery, TestSend
from app.rewards.entitlements import grant
from tests.conftest import PASSWORD, Clock
from tests.helpers import csrf_token, sign_in
from tests.security.harness import make_member

PACK = "paper-planes"  # earned by a referral, which B never made
SURVEY = "reader-2026"
A_EMAIL, B_EMAIL = "alice@example.com", "bob@example.com"
A_AGENT = "AliceBrowser/1.0 (alice-device)"
A_SECRET_ANSWER = "alice-secret-answer-4711"


@dataclass
class Owner:
    email: str
    member_id: int
    client: FlaskClient
    receipts: list[str] = field(default_factory=list)
    endpoint_ids: list[int] = field(default_factory=list)
    endpoint_urls: list[str] = field(default_factory=list)
    delivery_ids: list[int] = field(default_factory=list)
    campaign_ids: list[int] = field(default_factory=list)
    test_ids: list[int] = field(default_factory=list)  # tests of a campaign sent to oneself

    def csrf(self, page: str = "/me/permissions") -> str:
        return csrf_token(self.client.get(page).get_data(as_text=True))


def _own_things(app: Flask, clock: Clock, owner: Owner, answer: str) -> None:
    with app.app_context():
        scope = find_scope("newsletter")
        assert scope is not None
        grant(owner.member_id, scope.reward, "account", clock())
        for channel in ("email", "inbox"):
            event = consents.grant_consent(
                owner.member_id,
                scope,
                channel,
                scope.wording,
                Origin("preferences", "/me/permissions"),
                clock(),
            )
            assert event is not None
            owner.receipts.append(event.receipt)
        url = f"https://127.0.0.1/hooks/{owner.member_id}"
        endpoint = webhooks.add_endpoint(owner.member_id, url, clock(), allow_loopback=True)
        db.session.flush()
        owner.endpoint_ids.append(endpoint.id)
        owner.endpoint_urls.append(url)
        _inbox_message(owner, clock)
        survey = responses.get_survey(SURVEY)
        responses.submit_response(
            owner.member_id,
            survey,
            {
                "role": ["Something else"],
                "usefulness": ["4"],
                "recommend": ["9"],
                "next-article": [answer],
            },
            survey.opens_at or clock(),
        )
        db.session.commit()


def _inbox_message(owner: Owner, clock: Clock) -> None:
    """A campaign delivered to the owner's inbox, with a reply the owner wrote."""
    campaign = create_campaign(
        Draft(f"Letter for {owner.email}", "Hello.", "newsletter", "editorial", ("inbox",)),
        None,
        clock(),
    )
    campaign.state = "sent"
    delivery = Delivery(
        campaign_id=campaign.id,
        member_id=owner.member_id,
        channel="inbox",
        state="sent",
        attempts=1,
        due_at=clock(),
        created_at=clock(),
        sent_at=clock(),
    )
    db.session.add(delivery)
    db.session.flush()
    conversation.reply(delivery, f"reply of {owner.email}", clock())
    owner.delivery_ids.append(delivery.id)
    owner.campaign_ids.append(campaign.id)
    test = TestSend(
        campaign_id=campaign.id,
        member_id=owner.member_id,
        title=f"Test for {owner.email}",
        html=f"<p>test of {owner.email}</p>",
        sent_at=clock(),
    )
    db.session.add(test)
    db.session.flush()
    owner.test_ids.append(test.id)


def build(app: Flask, clock: Clock) -> tuple[Owner, Owner]:
    """A and B, each signed in on their own client (A with a second browser too)."""
    owners = []
    for email, answer in ((A_EMAIL, A_SECRET_ANSWER), (B_EMAIL, "bob-answer")):
        member_id = make_member(app, clock, email, display_name=email.split("@")[0])
        client = app.test_client()
        if email == A_EMAIL:
            client.environ_base["HTTP_USER_AGENT"] = A_AGENT
        sign_in(client, email, PASSWORD)
        owner = Owner(email, member_id, client)
        _own_things(app, clock, owner, answer)
        owners.append(owner)
    alice, bob = owners
    with app.app_context():
        grant(alice.member_id, f"pack:{PACK}", "referral", clock())
        db.session.commit()
    second = app.test_client()
    second.environ_base["HTTP_USER_AGENT"] = A_AGENT + " second"
    sign_in(second, A_EMAIL, PASSWORD)
    return alice, bob


_TABLES: dict[str, list[Any]] = {}


def _tables(app: Flask) -> list[Any]:
    """The tables of the app's database, reflected once per database."""
    url = str(db.engine.url)
    if url not in _TABLES:
        metadata = MetaData()
        metadata.reflect(db.engine)
        _TABLES[url] = [metadata.tables[name] for name in sorted(metadata.tables)]
    return _TABLES[url]


def snapshot(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    with app.app_context():
        rows: dict[str, list[tuple[Any, ...]]] = {}
        with db.engine.connect() as connection:
            for table in _tables(app):
                found = connection.execute(select(table)).all()
                rows[table.name] = sorted((tuple(r) for r in found), key=repr)
        return rows


def changes(
    before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]
) -> dict[str, Any]:
    """The tables whose rows differ, with the rows that went and came."""
    differ = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, []), after.get(name, [])
        if old != new:
            differ[name] = {
                "gone": [r for r in old if r not in new],
                "new": [r for r in new if r not in old],
            }
    return differ
