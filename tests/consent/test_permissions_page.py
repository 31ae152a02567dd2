"""The permissions page: per scope one control (the sentence once, a switch per channel in the
one channel order, one save) and a one-click stop per yes; refused forgeries and replays,
re-consent when the wording changes, pause and quiet hours. The per-channel yes (an unticked
box and a button) now stands only in calls to action, such as the home page's: its own checks
are tested here through that page."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.consent.gate.facts import facts_for
from app.consent.gate.rules import Campaign, decide
from app.consent.ledger import toggles
from app.consent.ledger.preferences import preferences_of
from app.consent.models import ConsentEvent
from app.consent.scopes import CHANNEL_ORDER, get_scope, in_channel_order
from app.extensions import db
from tests.conftest import CONTENT, PASSWORD, REPO, Clock
from tests.consent.pages import forms, save_switches, switched_on
from tests.helpers import csrf_token, post_form, sign_in


def events(app: Flask) -> list[ConsentEvent]:
    with app.app_context():
        return list(db.session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)))


def say_yes(
    client: FlaskClient,
    channel: str = "email",
    agree: bool = True,
    fields: dict[str, str] | None = None,
) -> Any:
    """The per-channel yes of the weekly letter's call to action on the home page."""
    action = f"/me/permissions/newsletter/{channel}/yes"
    data = fields or forms(client.get("/").text, action)[0]
    if agree:
        data = {**data, "agree": "y"}
    return client.post(action, data=data)


def switch_on(client: FlaskClient, channel: str = "email", **kwargs: Any) -> Any:
    """Switch ``channel`` on in the weekly letter's control on the permissions page, and save."""
    return save_switches(client, "newsletter", on=(channel,), **kwargs)


def switches(page: str, scope: str) -> list[str]:
    """The channels of ``scope``'s switches, in the order the page shows them."""
    start = page.index(f'action="/me/permissions/{scope}/choices"')
    form = page[start : page.index("</form>", start)]
    return re.findall(r'role="switch" id="[^"]+" name="channel" value="(\w+)"', form)


@pytest.fixture
def signed_in(client: FlaskClient, member: Any) -> FlaskClient:
    sign_in(client, "reader@example.com", PASSWORD)
    return client


def test_the_page_lists_earned_scopes_with_one_control_each(
    app: Flask, signed_in: FlaskClient
) -> None:
    page = signed_in.get("/me/permissions").text
    assert "The weekly letter" in page and "At most one message a week, on Fridays" in page
    assert "Offered to you because you confirmed your email address" in page
    assert "Member offers" not in page  # not earned
    with app.app_context():
        scope = get_scope("newsletter")
        assert page.count(scope.wording) == 1  # the sentence once, not once per channel
        assert switches(page, "newsletter") == list(in_channel_order(scope.channels))
    assert [c for c in CHANNEL_ORDER if c in ("email", "inbox", "telegram")] == switches(
        page, "newsletter"
    )
    assert page.count("Save my choices</button>") == 1
    assert "/yes" not in page and 'name="agree"' not in page  # no yes box and button per row
    assert "checked" not in page  # nothing is on before the member switches it on
    assert ">Permissions</a>" in page  # the header link


def test_each_offered_scope_has_its_sentence_once_and_its_switches_in_the_one_order(
    app: Flask, signed_in: FlaskClient, member: Any, clock: Clock
) -> None:
    with app.app_context():
        from app.rewards.entitlements import grant

        for slug in ("offers", "new-stickers"):
            grant(member.id, f"scope:{slug}", "code:spring-store", clock())
        db.session.commit()
    page = signed_in.get("/me/permissions").text
    with app.app_context():
        for slug in ("newsletter", "offers", "new-stickers"):
            scope = get_scope(slug)
            assert page.count(scope.wording) == 1, slug
            assert switches(page, slug) == list(in_channel_order(scope.channels)), slug
            assert [c for c in CHANNEL_ORDER if c in scope.channels] == switches(page, slug)
    assert page.count("Save my choices</button>") == 3
    assert 'name="agree"' not in page


def test_a_switch_records_the_permissions_pages_source_and_stop_takes_one_click(
    app: Flask, signed_in: FlaskClient, clock: Clock
) -> None:
    nothing = save_switches(signed_in, "newsletter")  # saved with every switch off
    assert nothing.status_code == 302 and events(app) == []
    assert "Nothing changed" in signed_in.get("/me/permissions").text

    response = switch_on(signed_in)
    assert response.status_code == 302
    assert response.headers["Location"] == "/me/permissions#scope-newsletter"
    [grant] = events(app)
    assert (grant.action, grant.channel, grant.source, grant.page) == (
        "grant",
        "email",
        "preferences",
        "/me/permissions",
    )
    page = signed_in.get("/me/permissions").text
    assert "may now reach you by email" in page and "Yes</strong> since" in page
    assert switched_on(page, "newsletter") == {"email"}

    clock.advance(minutes=1)
    [stop] = forms(page, "/me/permissions/newsletter/email/stop")
    # One click: the stop form is one button and hidden fields, nothing to tick or choose.
    start = page.index('action="/me/permissions/newsletter/email/stop"')
    form = page[start : page.index("</form>", start)]
    assert form.count("<button") == 1 and 'type="checkbox"' not in form
    assert set(re.findall(r'<input type="(\w+)"', form)) == {"hidden"}
    response = signed_in.post("/me/permissions/newsletter/email/stop", data=stop)
    assert response.status_code == 302
    assert [(e.action, e.source) for e in events(app)] == [
        ("grant", "preferences"),
        ("revoke", "preferences"),
    ]
    page = signed_in.get("/me/permissions").text
    assert "will not reach you by email any more" in page
    assert switched_on(page, "newsletter") == set()


def test_the_yes_of_a_call_to_action_needs_its_box_ticked(
    app: Flask, signed_in: FlaskClient
) -> None:
    response = say_yes(signed_in, agree=False)
    assert response.status_code == 302 and events(app) == []
    assert "Tick the box" in signed_in.get("/me/permissions").text
    assert say_yes(signed_in).status_code == 302
    [grant] = events(app)
    assert (grant.action, grant.channel, grant.source) == ("grant", "email", "form:cta")


def test_a_replayed_yes_changes_nothing(app: Flask, signed_in: FlaskClient) -> None:
    first = signed_in.get("/me/permissions").text
    switch_on(signed_in, html=first)
    stop = forms(signed_in.get("/me/permissions").text, "/me/permissions/newsletter/email/stop")[0]
    signed_in.post("/me/permissions/newsletter/email/stop", data=stop)
    before = len(events(app))
    response = switch_on(signed_in, html=first)  # the first page's form, again
    assert response.status_code == 302 and len(events(app)) == before
    assert "This page was out of date" in signed_in.get("/me/permissions").text

    fields = forms(signed_in.get("/").text, "/me/permissions/newsletter/email/yes")[0]
    say_yes(signed_in, fields=dict(fields))  # the call to action's yes, replayed
    stop = forms(signed_in.get("/me/permissions").text, "/me/permissions/newsletter/email/stop")[0]
    signed_in.post("/me/permissions/newsletter/email/stop", data=stop)
    before = len(events(app))
    response = say_yes(signed_in, fields=dict(fields))
    assert response.status_code == 302 and len(events(app)) == before
    assert "This page was out of date" in signed_in.get("/me/permissions").text


def test_forged_tokens_and_other_members_buttons_are_refused(
    app: Flask, signed_in: FlaskClient, clock: Clock
) -> None:
    page = signed_in.get("/me/permissions").text
    [choices] = forms(page, "/me/permissions/newsletter/choices")
    forged = signed_in.post(
        "/me/permissions/newsletter/choices",
        data={**choices, "token": choices["token"][:-3] + "abc", "channel": ["email"]},
    )
    assert forged.status_code == 400 and "not made for you" in forged.text
    fields = forms(signed_in.get("/").text, "/me/permissions/newsletter/email/yes")[0]
    forged = say_yes(signed_in, fields={**fields, "token": fields["token"][:-3] + "abc"})
    assert forged.status_code == 400 and "not made for you" in forged.text
    wrong_channel = signed_in.post(
        "/me/permissions/newsletter/inbox/yes", data={**fields, "agree": "y"}
    )
    assert wrong_channel.status_code == 400
    with app.app_context():
        from app.accounts import members

        other = members.create_member("o@example.com", None, now=clock(), verified=True)
        db.session.commit()
        theirs = toggles.toggle_token(other.id, "newsletter", "email", "stop", 0, 0)
    stolen = signed_in.post(
        "/me/permissions/newsletter/email/stop", data={**fields, "token": theirs}
    )
    assert stolen.status_code == 400
    assert events(app) == []


@pytest.mark.parametrize(
    ("scope", "channel", "message"),
    [
        ("offers", "email", "offered to members who earned it"),
        ("newsletter", "webhook", "not offered by webhook"),
    ],
)
def test_grants_for_unearned_scopes_or_unoffered_channels_are_refused(
    app: Flask, signed_in: FlaskClient, member: Any, scope: str, channel: str, message: str
) -> None:
    page = signed_in.get("/me/permissions").text
    with app.app_context():
        token = toggles.toggle_token(member.id, scope, channel, "yes", 0, 1)
        wording_hash = get_scope(scope).wording_hash
    response = signed_in.post(
        f"/me/permissions/{scope}/{channel}/yes",
        data={
            "csrf_token": csrf_token(page),
            "token": token,
            "wording_hash": wording_hash,
            "agree": "y",
        },
        follow_redirects=True,
    )
    assert message in response.text
    assert events(app) == []


def test_pause_everything_and_quiet_hours(
    app: Flask, signed_in: FlaskClient, member: Any, clock: Clock
) -> None:
    response = post_form(
        signed_in, "/me/permissions/pause", {"pause-days": "0"}, page="/me/permissions"
    )
    assert response.status_code == 400 and "Choose between 1 and 365 days." in response.text
    response = post_form(
        signed_in,
        "/me/permissions/pause",
        {"pause-days": "10"},
        page="/me/permissions",
        follow_redirects=True,
    )
    assert "Everything is paused until" in response.text
    with app.app_context():
        assert preferences_of(member.id).paused_until == clock() + timedelta(days=10)
    post_form(signed_in, "/me/permissions/unpause", {}, page="/me/permissions")
    with app.app_context():
        assert preferences_of(member.id).paused_until is None

    response = post_form(
        signed_in,
        "/me/permissions/quiet-hours",
        {"quiet-start": "22:00", "quiet-time_zone": "Europe/Berlin"},
        page="/me/permissions",
    )
    assert response.status_code == 400 and "Give both the start and the end" in response.text
    response = post_form(
        signed_in,
        "/me/permissions/quiet-hours",
        {"quiet-start": "22:00", "quiet-end": "07:00", "quiet-time_zone": "Mars/Olympus"},
        page="/me/permissions",
    )
    assert response.status_code == 400 and "Choose a time zone from the list." in response.text
    response = post_form(
        signed_in,
        "/me/permissions/quiet-hours",
        {"quiet-start": "22:00", "quiet-end": "07:00", "quiet-time_zone": "Europe/Berlin"},
        page="/me/permissions",
        follow_redirects=True,
    )
    assert "Your quiet hours are saved." in response.text
    assert 'value="22:00"' in response.text
    assert '<option selected value="Europe/Berlin">' in response.text
    with app.app_context():
        prefs = preferences_of(member.id)
        assert (prefs.quiet_start, prefs.quiet_end) == (22 * 60, 7 * 60)
        assert facts_for(member.id).members[member.id].time_zone == "Europe/Berlin"


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    content = tmp_path / "content"
    content.mkdir()
    (content / "scopes.toml").write_text((REPO / "content/scopes.toml").read_text())
    # The home page's call to action for the weekly letter, with its per-channel yes.
    (content / "site.toml").write_text((CONTENT / "site.toml").read_text())
    app_config["CONTENT_DIR"] = str(content)
    return app_config


def test_new_wording_asks_members_again_and_the_gate_waits_for_their_yes(
    app: Flask, signed_in: FlaskClient, member: Any, clock: Clock
) -> None:
    switch_on(signed_in)
    scopes_file = Path(app.config["CONTENT_DIR"]) / "scopes.toml"
    text = scopes_file.read_text()
    new_wording = "Yes, send me the weekly letter, now with a reading list."
    scopes_file.write_text(
        text.replace(
            'consent_text = "Yes, send me the weekly letter. I can stop it with one click at any '
            'time."\nconsent_version = 1',
            f'consent_text = "{new_wording}"\nconsent_version = 2',
        )
    )
    clock.advance(days=2)
    page = signed_in.get("/me/permissions").text
    assert "The wording changed" in page and page.count(new_wording) == 1
    assert "Waiting for a new yes" in page and switched_on(page, "newsletter") == set()
    assert re.search(r'Permissions <span class="badge">1', page)
    with app.app_context():
        scope = get_scope("newsletter")
        decision = decide(facts_for(member.id), Campaign.of(scope), member.id, "email", clock())
        assert decision.reasons[0] == "stale-consent"  # then Friday's window, two days on
    assert switch_on(signed_in, html=page).status_code == 302
    grant = events(app)[-1]
    assert (grant.action, grant.channel, grant.source) == ("grant", "email", "preferences")
    assert (
        grant.wording
        == (
            f"{new_wording} At most one message a week, on Fridays between "
            "08:00 and 18:00 your time."
        )
        and grant.wording_version == 2
    )
    with app.app_context():
        clock.advance(days=5)  # past the cooldown, on the next Friday morning
        decision = decide(
            facts_for(member.id), Campaign.of(get_scope("newsletter")), member.id, "email", clock()
        )
        assert decision.allowed
    assert "The wording changed" not in signed_in.get("/me/permissions").text


def test_a_yes_shown_with_the_old_wording_is_refused(app: Flask, signed_in: FlaskClient) -> None:
    page = signed_in.get("/me/permissions").text
    fields = forms(signed_in.get("/").text, "/me/permissions/newsletter/email/yes")[0]
    scopes_file = Path(app.config["CONTENT_DIR"]) / "scopes.toml"
    scopes_file.write_text(
        scopes_file.read_text().replace(
            "I can stop it with one click at any time.", "I may stop it whenever I like."
        )
    )
    say_yes(signed_in, fields=fields)
    assert events(app) == []
    response = switch_on(signed_in, html=page)  # the switches shown with the old words
    assert response.status_code == 302 and events(app) == []
    assert "This page was out of date" in signed_in.get("/me/permissions").text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ConsentEvent)) == 0


def test_buttons_only_return_to_pages_of_this_site(signed_in: FlaskClient) -> None:
    fields = forms(signed_in.get("/").text, "/me/permissions/newsletter/email/yes")[0]
    for target, expected in (
        ("https://evil.example/", "/me/permissions#scope-newsletter"),
        ("//evil.example/x", "/me/permissions#scope-newsletter"),
        ("/me/rewards", "/me/rewards"),
    ):
        response = say_yes(signed_in, fields={**fields, "next": target})
        assert response.headers["Location"] == expected
        fields = forms(
            signed_in.get("/me/permissions").text, "/me/permissions/newsletter/email/stop"
        )[0]
        signed_in.post("/me/permissions/newsletter/email/stop", data=fields)
        fields = forms(signed_in.get("/").text, "/me/permissions/newsletter/email/yes")[0]


@pytest.mark.parametrize("channel", ["fax", "EMAIL", "email%20", "email.", ".."])
def test_a_channel_that_is_not_one_matches_no_consent_route(
    signed_in: FlaskClient, channel: str
) -> None:
    token = csrf_token(signed_in.get("/me/permissions").text)
    for action in ("yes", "stop"):
        response = signed_in.post(
            f"/me/permissions/newsletter/{channel}/{action}", data={"csrf_token": token}
        )
        # only the site's GET-only catch-all for moved pages matches what is left
        assert response.status_code == 405
    with signed_in.application.app_context():
        assert db.session.scalar(select(func.count()).select_from(ConsentEvent)) == 0
