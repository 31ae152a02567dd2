"""The rewards page's scope offer: the promise and one control (the sentence once, a switch per
channel, each off), only for members who earned the scope, never a condition for anything."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from flask_login import login_user

from app.accounts.sessions import start_sign_in
from app.consent.ledger import consents
from app.extensions import db
from app.rewards.catalog import describe
from app.rewards.entitlements import grant
from tests.conftest import PASSWORD, Clock
from tests.consent.pages import forms
from tests.helpers import sign_in


def test_the_offer_is_unticked_per_channel_and_only_for_members_who_earned_it(
    app: Flask, member: Any, clock: Clock
) -> None:
    with app.test_request_context("/me/rewards"):
        start_sign_in(member, "test", clock())
        login_user(member)
        offers = describe("scope:offers", member.id)
        assert offers is not None and offers.title == "Member offers"
        assert offers.summary.startswith("Offers from the shop for members")
        assert "At most one message a week and two a month" in offers.summary
        assert offers.offer is None and offers.url is None  # not earned: described only
        grant(member.id, "scope:offers", "code:spring-store", clock())
        offer = describe("scope:offers", member.id)
        assert offer is not None and offer.offer is not None
        assert offer.url == "/me/permissions#scope-offers"
        html = str(offer.offer)
        assert html.count('role="switch"') == 4 and "checked" not in html
        assert html.count("Save my choices") == 1
        assert 'name="origin" value="rewards"' in html and 'name="next" value="/me/rewards"' in html
        assert "nothing else depends on it" in html
        assert describe("scope:no-such-scope", member.id) is None


def test_saying_yes_from_the_offer_is_recorded_as_the_rewards_form(
    app: Flask, client: FlaskClient, member: Any, clock: Clock
) -> None:
    with app.app_context():
        grant(member.id, "scope:offers", "survey:reader-2026", clock())
        db.session.commit()
    sign_in(client, "reader@example.com", PASSWORD)
    with app.test_request_context("/me/rewards"):
        start_sign_in(member, "test", clock())
        login_user(member)
        offer = describe("scope:offers", member.id)
        assert offer is not None
        fields = forms(str(offer.offer), "/me/permissions/offers/choices")[0]
    page = client.get("/me/permissions").text  # the browser's own CSRF token
    fields["csrf_token"] = forms(page, "/me/permissions/offers/choices")[0]["csrf_token"]
    response = client.post("/me/permissions/offers/choices", data={**fields, "channel": "inbox"})
    assert response.status_code == 302 and response.headers["Location"] == "/me/rewards"
    with app.app_context():
        [event] = consents.history(member.id)
        assert (event.source, event.page, event.channel) == ("form:rewards", "/me/rewards", "inbox")
