"""One consent control per scope on the rewards page: the sentence once, a switch per channel in
the one channel order, one save. Each channel switched on is a grant with the words shown, each
switched off a revoke with the words of its switch and button; only earned scopes, only with
the member's own CSRF token and form, never from a page out of date."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.consent.ledger import choices, consents
from app.consent.models import ConsentEvent
from app.consent.scopes import CHANNEL_ORDER, get_scope, in_channel_order
from app.extensions import db
from app.rewards.entitlements import grant
from tests.conftest import PASSWORD, Clock
from tests.consent import world
from tests.consent.pages import forms
from tests.consent.test_exact_words import assert_recorded, shown
from tests.helpers import sign_in

ACTION = "/me/permissions/offers/choices"


@pytest.fixture
def signed_in(app: Flask, client: FlaskClient, member: Any, clock: Clock) -> FlaskClient:
    """The reader, signed in, who earned Member offers with a code from a shop."""
    with app.app_context():
        grant(member.id, "scope:offers", "code:spring-store", clock())
        db.session.commit()
    sign_in(client, "reader@example.com", PASSWORD)
    return client


def _events(app: Flask, member_id: int) -> list[ConsentEvent]:
    """The member's events, oldest first."""
    with app.app_context():
        found = list(reversed(consents.history(member_id)))
        for event in found:
            db.session.expunge(event)
        return found


def _save(client: FlaskClient, page: str, channels: list[str], **extra: str) -> Any:
    [fields] = forms(page, ACTION)
    return client.post(ACTION, data={**fields, "channel": channels, **extra})


def _switches(page: str) -> list[str]:
    """The channels of the offers form's switches, in the order the page shows them."""
    form = page[page.index(f'action="{ACTION}"') :]
    form = form[: form.index("</form>")]
    return re.findall(r'role="switch" id="[^"]+" name="channel" value="(\w+)"', form)


def test_the_sentence_is_shown_once_with_a_switch_per_channel_in_the_one_order(
    signed_in: FlaskClient, app: Flask
) -> None:
    page = signed_in.get("/me/rewards").text
    with app.app_context():
        scope = get_scope("offers")
        assert page.count(scope.wording) == 1
        assert _switches(page) == list(in_channel_order(scope.channels))
    assert _switches(page) == ["inbox", "email", "sms", "webhook"]  # not the file's order
    assert list(CHANNEL_ORDER).index("inbox") < list(CHANNEL_ORDER).index("webhook")
    assert page.count("Save my choices</button>") == 2  # the letter and the offers: one each
    assert 'name="agree"' not in page  # no tick box and button per channel, nor in the footer


def test_switching_two_channels_on_records_two_grants_with_the_words_shown(
    signed_in: FlaskClient, app: Flask, member: Any
) -> None:
    page = signed_in.get("/me/rewards").text
    words = shown(page, "choices offers")
    response = _save(signed_in, page, ["email", "inbox"])
    assert response.status_code == 302 and response.headers["Location"] == "/me/rewards"
    events = _events(app, member.id)
    assert [(e.channel, e.action) for e in events] == [("inbox", "grant"), ("email", "grant")]
    for event in events:
        assert_recorded(event, words, "grant")
        assert (event.source, event.page) == ("form:rewards", "/me/rewards")
    after = signed_in.get("/me/rewards").text
    assert (
        "Thank you. Member offers may now reach you in your inbox on this site and by email"
        in after
    )
    assert re.search(r'value="inbox" checked', after) and re.search(r'value="email" checked', after)
    assert not re.search(r'value="webhook" checked', after)


def test_switching_a_channel_off_records_a_withdrawal_with_its_words(
    signed_in: FlaskClient, app: Flask, member: Any
) -> None:
    _save(signed_in, signed_in.get("/me/rewards").text, ["email", "inbox"])
    page = signed_in.get("/me/rewards").text
    words = "\n".join([shown(page, "switch offers email"), shown(page, "save offers")])
    assert words == "Email\nSave my choices"
    response = _save(signed_in, page, ["inbox"])  # email switched off, inbox left on
    assert response.status_code == 302
    events = _events(app, member.id)
    assert [(e.channel, e.action) for e in events] == [
        ("inbox", "grant"),
        ("email", "grant"),
        ("email", "revoke"),
    ]
    assert_recorded(events[-1], words, "revoke")
    with app.app_context():
        states = consents.states_of(member.id)
        assert states[("offers", "inbox")].granted and not states[("offers", "email")].granted
    again = _save(signed_in, signed_in.get("/me/rewards").text, ["inbox"])
    assert again.status_code == 302 and len(_events(app, member.id)) == 3  # nothing new
    assert "Nothing changed" in signed_in.get("/me/rewards").text


def test_a_text_message_yes_records_the_sentence_and_the_terms_beside_its_switch(
    signed_in: FlaskClient, app: Flask, member: Any, clock: Clock
) -> None:
    assert 'value="sms" disabled' in signed_in.get("/me/rewards").text  # no number yet
    with app.app_context():
        world.phone(member.id, clock())
        db.session.commit()
    page = signed_in.get("/me/rewards").text
    assert 'value="sms" disabled' not in page
    words = f"{shown(page, 'choices offers')} {shown(page, 'choices offers sms')}"
    _save(signed_in, page, ["sms"])
    [event] = _events(app, member.id)
    assert event.channel == "sms"
    assert_recorded(event, words, "grant")
    with app.app_context():
        assert words == get_scope("offers").wording_for("sms")


def test_an_unearned_scope_is_refused_and_nothing_is_written(
    signed_in: FlaskClient, app: Flask, member: Any
) -> None:
    page = signed_in.get("/me/rewards").text
    with app.app_context():  # the entitlement goes after the page was drawn
        from sqlalchemy import delete

        from app.rewards.models import Entitlement

        db.session.execute(delete(Entitlement).where(Entitlement.member_id == member.id))
        db.session.commit()
    response = _save(signed_in, page, ["email"])
    assert response.status_code == 403
    assert _events(app, member.id) == []
    # Nor can a form for an offered scope be pointed at another scope.
    [fields] = forms(page, ACTION)
    other = signed_in.post(
        "/me/permissions/new-stickers/choices", data={**fields, "channel": ["email"]}
    )
    assert other.status_code in (400, 403) and _events(app, member.id) == []


def test_without_the_csrf_token_or_with_another_members_form_nothing_changes(
    signed_in: FlaskClient, app: Flask, member: Any, clock: Clock
) -> None:
    page = signed_in.get("/me/rewards").text
    [fields] = forms(page, ACTION)
    no_csrf = {k: v for k, v in fields.items() if k != "csrf_token"}
    assert signed_in.post(ACTION, data={**no_csrf, "channel": ["email"]}).status_code == 400
    with app.test_request_context():
        other = world.add_member(2, clock())
        grant(other.id, "scope:offers", "code:spring-store", clock())
        db.session.commit()
        other_id = other.id
        theirs = choices.choices_token(other_id, get_scope("offers"), ["email", "inbox"])
    response = signed_in.post(ACTION, data={**fields, "token": theirs, "channel": ["email"]})
    assert response.status_code == 400 and "not made for you" in response.text
    forged = {**fields, "token": fields["token"][:-4] + "AAAA"}
    assert signed_in.post(ACTION, data={**forged, "channel": ["email"]}).status_code == 400
    assert _events(app, member.id) == [] and _events(app, other_id) == []


def test_a_page_out_of_date_changes_nothing(
    signed_in: FlaskClient, app: Flask, member: Any
) -> None:
    old_page = signed_in.get("/me/rewards").text
    _save(signed_in, signed_in.get("/me/rewards").text, ["email"])
    response = _save(signed_in, old_page, [])  # the old page would switch email off
    assert response.status_code == 302
    assert [(e.channel, e.action) for e in _events(app, member.id)] == [("email", "grant")]
    assert "This page was out of date" in signed_in.get("/me/rewards").text


def test_a_channel_the_form_did_not_offer_is_never_touched(
    signed_in: FlaskClient, app: Flask, member: Any
) -> None:
    page = signed_in.get("/me/rewards").text
    _save(signed_in, page, ["email", "telegram", "push", "fax"])
    assert [(e.channel, e.action) for e in _events(app, member.id)] == [("email", "grant")]


def test_webhooks_are_folded_under_advanced_in_plain_words(
    signed_in: FlaskClient, app: Flask, member: Any, clock: Clock
) -> None:
    page = signed_in.get("/me/permissions").text
    folded = re.search(
        r'<details class="card advanced" id="advanced">\s*<summary>(.*?)</summary>', page, re.S
    )
    assert folded is not None, "the webhooks are not folded away"
    summary = re.sub(r"<[^>]+>", "", folded.group(1))
    assert "Send to your own server (for developers)" in summary
    for jargon in ("Standard Webhooks", "challenge", "webhook", "endpoint"):
        assert jargon.lower() not in summary.lower()
    inside = page[folded.end() : page.index("</details>", folded.end())]
    assert "Standard Webhooks" in inside and "Add endpoint" in inside  # the detail stays
    with app.app_context():
        world.endpoint(member.id, 1, clock(), verified=True, disabled=False)
        db.session.commit()
    assert (
        '<details class="card advanced" id="advanced" open>'
        in signed_in.get("/me/permissions").text
    )  # a member with a server of their own sees it open
