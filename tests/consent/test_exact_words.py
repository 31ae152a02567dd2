"""Every grant and revoke records the words of the control the member used, byte for byte.

Each test renders a control the way the member meets it (a page, or the mail the real SMTP
server received), reads the text of the elements marked ``data-consent-words`` for that control
(whitespace as a browser renders it; parts one a line, in reading order), uses the control, and
compares the ledger's wording and its SHA-256 with what was shown. Revokes nobody made say so.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.consent.gate import why
from app.consent.ledger import consents
from app.consent.models import ConsentEvent, SubscriptionRequest
from app.consent.scopes import ScopeSource, get_scope
from app.extensions import db
from app.rewards.entitlements import grant
from tests.conftest import PASSWORD, Clock
from tests.consent import world
from tests.consent.pages import forms, save_switches, wording_hash
from tests.helpers import SMTPSink, csrf_token, link_in, post_form, sign_in, text_body
from tests.notify.conftest import campaign, work  # noqa: F401 - fixtures

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
SPACES = re.compile(r"[ \t\n\r\f]+")  # what CSS collapses; a no-break space stays


class _Marked(HTMLParser):
    """The text of every element with ``data-consent-words``, by control, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, list[str] | None]] = []
        self.found: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        control = dict(attrs).get("data-consent-words")
        parts: list[str] | None = None
        if control is not None:
            parts = []
            self.found.append((control, parts))
        self.open.append((tag, parts))

    def handle_endtag(self, tag: str) -> None:
        while self.open:
            if self.open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, parts in self.open:
            if parts is not None:
                parts.append(data)


def shown(html: str, control: str) -> str:
    """What the member reads of ``control``: each marked element's text as rendered, one a
    line. Fails when the page does not show the control."""
    parser = _Marked()
    parser.feed(html)
    parser.close()
    texts = [
        SPACES.sub(" ", "".join(parts)).strip() for name, parts in parser.found if name == control
    ]
    assert texts and all(texts), f"the page shows no words for {control!r}"
    return "\n".join(texts)


def latest(app: Flask, member_id: int) -> ConsentEvent:
    with app.app_context():
        event = consents.history(member_id)[0]
        db.session.expunge(event)
        return event


def assert_recorded(event: ConsentEvent, words: str, action: str) -> None:
    assert event.action == action
    assert event.wording.encode("utf-8") == words.encode("utf-8")
    assert event.wording_hash == hashlib.sha256(words.encode("utf-8")).hexdigest()


@pytest.fixture
def signed_in(client: FlaskClient, member: Any) -> FlaskClient:
    sign_in(client, "reader@example.com", PASSWORD)
    return client


def _grant(app: Flask, member_id: int, slug: str, channel: str, at: Any) -> None:
    with app.app_context():
        scope = get_scope(slug)
        consents.grant_consent(
            member_id, scope, channel, scope.wording, consents.Origin("preferences"), at
        )
        db.session.commit()


# --- yes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["email", "inbox"])
def test_a_yes_on_the_permissions_page_records_the_sentence_shown_above_its_switches(
    app: Flask, signed_in: FlaskClient, member: Any, channel: str
) -> None:
    page = signed_in.get("/me/permissions").text
    words = shown(page, "choices newsletter")
    response = save_switches(signed_in, "newsletter", on=(channel,), html=page)
    assert response.status_code == 302
    event = latest(app, member.id)
    assert_recorded(event, words, "grant")
    assert (event.channel, event.source, event.page) == (channel, "preferences", "/me/permissions")


def test_a_yes_on_the_rewards_page_records_the_sentence_shown_above_its_switches(
    app: Flask, signed_in: FlaskClient, member: Any, clock: Clock
) -> None:
    with app.app_context():
        grant(member.id, "scope:offers", "code:spring-store", clock())
        db.session.commit()
    action = "/me/permissions/offers/choices"  # one control: the sentence once, a switch each
    page = signed_in.get("/me/rewards").text
    words = shown(page, "choices offers")
    response = signed_in.post(action, data={**forms(page, action)[0], "channel": "webhook"})
    assert response.status_code == 302 and response.headers["Location"] == "/me/rewards"
    event = latest(app, member.id)
    assert_recorded(event, words, "grant")
    assert event.source == "form:rewards"


def test_a_member_subscribing_records_the_label_of_the_box(
    app: Flask, signed_in: FlaskClient, member: Any
) -> None:
    page = signed_in.get("/subscribe/newsletter").text
    words = shown(page, "yes newsletter email")
    response = signed_in.post(
        "/subscribe/newsletter",
        data={"csrf_token": csrf_token(page), "wording_hash": wording_hash(page), "agree": "y"},
    )
    assert response.status_code == 302
    assert_recorded(latest(app, member.id), words, "grant")


def test_double_opt_in_records_the_words_of_the_confirmation_page(
    app: Flask, client: FlaskClient, smtp: SMTPSink
) -> None:
    email = "new.reader@example.com"
    page = client.get(f"/subscribe/newsletter?email={email}&from=footer").text
    asked = shown(page, "yes newsletter email")
    client.post(
        "/subscribe/newsletter",
        data={
            "email": email,
            "origin": "footer",
            "csrf_token": csrf_token(page),
            "wording_hash": wording_hash(page),
            "agree": "y",
        },
    )
    with app.app_context():
        request = db.session.scalar(select(SubscriptionRequest))
        assert request is not None and request.wording == asked
    link = link_in(smtp.wait_for(1)[0], "/subscriptions/confirm/")
    confirmation = client.get(link).text
    words = shown(confirmation, "yes newsletter email")
    response = client.post(
        link,
        data={"csrf_token": csrf_token(confirmation), "wording_hash": wording_hash(confirmation)},
    )
    assert response.status_code == 302
    with app.app_context():
        [event] = db.session.scalars(select(ConsentEvent)).all()
        db.session.expunge(event)
    assert_recorded(event, words, "grant")


# --- stop on the site -------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["email", "inbox"])
def test_a_stop_on_the_permissions_page_records_its_button(
    app: Flask, signed_in: FlaskClient, member: Any, clock: Clock, channel: str
) -> None:
    _grant(app, member.id, "newsletter", channel, clock())
    action = f"/me/permissions/newsletter/{channel}/stop"
    page = signed_in.get("/me/permissions").text
    words = shown(page, f"stop newsletter {channel}")
    assert (
        words
        == {
            "email": "Stop The weekly letter by email",
            "inbox": "Stop The weekly letter in your inbox on this site",
        }[channel]
    )
    assert signed_in.post(action, data=forms(page, action)[0]).status_code == 302
    assert_recorded(latest(app, member.id), words, "revoke")


def test_the_why_page_records_its_button(
    app: Flask, client: FlaskClient, member: Any, clock: Clock
) -> None:
    _grant(app, member.id, "newsletter", "email", clock())
    clock.advance(days=3)
    with app.app_context():
        url = why.why_url(member.id, "newsletter", "email", clock()).removeprefix(
            "http://localhost"
        )
    words = shown(client.get(url).text, "stop newsletter email")
    assert post_form(client, url + "/stop", {}, page=url).status_code == 302
    event = latest(app, member.id)
    assert_recorded(event, words, "revoke")
    assert event.source == "why-page"


def test_the_inbox_stop_records_its_sentence_and_button_on_every_channel(
    app: Flask,
    signed_in: FlaskClient,
    member: Any,
    clock: Clock,
    campaign: Callable[..., int],  # noqa: F811 - fixtures
    work: Callable,  # noqa: F811 - fixtures
) -> None:
    from app.notify.models import Delivery

    with app.app_context():
        for channel in ("email", "inbox"):
            world.consent(
                member.id,
                "newsletter",
                channel,
                granted=True,
                version=1,
                at=clock() - timedelta(days=7),
            )
        db.session.commit()
    campaign(channels=("inbox",), title="Letter one")
    assert work()["sent"] == 1
    with app.app_context():
        delivery = db.session.scalar(select(Delivery.id))
    url = f"/inbox/{delivery}"
    post_form(signed_in, f"{url}/not-for-me", {}, page=url)
    words = shown(signed_in.get(url).text, "stop newsletter")
    assert words == (
        "We paused The weekly letter for you. To stop it for good, on every "
        "channel:\nStop these messages"
    )
    post_form(signed_in, f"{url}/stop", {}, page=url)
    with app.app_context():
        revokes = [e for e in consents.history(member.id) if e.action == "revoke"]
        assert sorted(e.channel for e in revokes) == ["email", "inbox"]
        for event in revokes:
            assert_recorded(event, words, "revoke")


def test_the_team_records_the_button_a_marketer_pressed(
    app: Flask, member: Any, clock: Clock
) -> None:
    from app.accounts import members

    _grant(app, member.id, "newsletter", "email", clock())
    with app.app_context():
        members.create_member(
            "marketer@example.com", PASSWORD, now=clock(), role="marketer", verified=True
        )
        db.session.commit()
    client = app.test_client()
    sign_in(client, "marketer@example.com", PASSWORD)
    url = f"/admin/members/{member.id}"
    words = shown(client.get(url).text, "admin-stop newsletter email")
    assert words == "Record that the member asked to stop The weekly letter by email"
    assert post_form(client, f"{url}/newsletter/email/stop", {}, page=url).status_code == 302
    event = latest(app, member.id)
    assert_recorded(event, words, "revoke")
    assert event.source == "admin"


# --- stop from a mail ---------------------------------------------------------------------------


@pytest.fixture
def mail(
    app: Flask,
    member: Any,
    clock: Clock,
    smtp: SMTPSink,
    campaign: Callable[..., int],  # noqa: F811 - fixtures
    work: Callable,  # noqa: F811 - fixtures
) -> EmailMessage:
    """The weekly letter as the member's mail program received it."""
    with app.app_context():
        for channel in ("email", "inbox"):
            world.consent(
                member.id,
                "newsletter",
                channel,
                granted=True,
                version=1,
                at=clock() - timedelta(days=7),
            )
        db.session.commit()
    campaign(channels=("email",))
    assert work()["sent"] == 1
    [received] = smtp.wait_for(1)
    return received


def header_path(mail: EmailMessage) -> str:
    [url] = re.findall(r"<(http[^>]+)>", str(mail["List-Unsubscribe"]))
    return re.sub(r"^https?://[^/]+", "", url)


def test_the_unsubscribe_page_records_its_question_and_button(
    app: Flask, member: Any, mail: EmailMessage
) -> None:
    client = app.test_client()  # whoever reads the mail, signed in or not
    path = link_in(mail, "/u/")
    page = client.get(path).text
    words = shown(page, "unsubscribe newsletter email")
    assert words == "Stop The weekly letter by email?\nUnsubscribe"
    response = client.post(path, data=forms(page, path)[0])
    assert response.status_code == 200 and "Unsubscribed" in response.text
    event = latest(app, member.id)
    assert_recorded(event, words, "revoke")
    assert event.source == "unsubscribe-link"


def test_one_click_records_the_footer_and_link_of_the_mail_received(
    app: Flask, member: Any, mail: EmailMessage
) -> None:
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    words = shown(html, "unsubscribe newsletter email")
    footer, link = words.split("\n")
    assert (
        footer.startswith(
            "You get this because you said yes to The weekly letter: The three best new articles."
        )
        and link == "Unsubscribe"
    )
    lines = text_body(mail).splitlines()
    assert footer in lines and any(line.startswith(f"{link}: http") for line in lines)
    response = app.test_client().post(header_path(mail), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    event = latest(app, member.id)
    assert_recorded(event, words, "revoke")
    assert event.source == "unsubscribe-link"


def test_one_click_after_the_promise_changed_says_the_words_are_not_on_file(
    app: Flask, member: Any, mail: EmailMessage, tmp_path: Path
) -> None:
    changed = tmp_path / "scopes.toml"
    text = (Path(app.config["CONTENT_DIR"]) / "scopes.toml").read_text()
    changed.write_text(
        text.replace(
            'about = "the three best new articles"', 'about = "the five best new articles"'
        )
    )
    app.extensions["pullfirst.scopes"] = ScopeSource(changed)
    app.test_client().post(header_path(mail), data={"List-Unsubscribe": "One-Click"})
    event = latest(app, member.id)
    assert event.action == "revoke" and "three" not in event.wording and "five" not in event.wording
    assert event.wording.startswith(
        "No words of ours shown with this stop are on file: the "
        "unsubscribe address of a message about The weekly letter "
        "by email was used"
    )


def test_a_page_shown_with_other_words_is_not_recorded_as_today_s(
    app: Flask, member: Any, mail: EmailMessage
) -> None:
    client = app.test_client()
    path = link_in(mail, "/u/")
    fields = forms(client.get(path).text, path)[0]
    client.post(path, data={**fields, "wording_hash": "0" * 64})
    assert latest(app, member.id).wording.startswith("No words of ours shown with this stop")


# --- revokes nobody made --------------------------------------------------------------------


def test_a_lapse_and_a_deletion_say_that_nobody_pressed_anything(
    app: Flask, member: Any, clock: Clock
) -> None:
    from app.accounts.privacy import delete_member
    from app.consent.ledger.upkeep import expire_consents

    with app.app_context():
        scope = get_scope("offers")
        grant(member.id, scope.reward, "code:spring-store", clock() - timedelta(days=400))
        consents.grant_consent(
            member.id,
            scope,
            "email",
            scope.wording,
            consents.Origin("demo"),
            clock() - timedelta(days=400),
        )
        newsletter = get_scope("newsletter")
        consents.grant_consent(
            member.id, newsletter, "inbox", newsletter.wording, consents.Origin("demo"), clock()
        )
        assert expire_consents(clock()) == 1
        lapsed = consents.history(member.id)[0]
        assert (lapsed.source, lapsed.scope) == ("expiry", "offers")
        assert lapsed.wording == (
            "Nobody pressed or typed anything: the yes to Member offers "
            "by email lapsed after 365 days without use."
        )
        found = db.session.get(type(member), member.id)
        assert found is not None
        delete_member(found, clock())
        db.session.commit()
        ended = db.session.scalars(select(ConsentEvent).order_by(ConsentEvent.id.desc())).first()
        assert ended is not None
        assert (ended.action, ended.source, ended.scope) == ("revoke", "deletion", "newsletter")
        assert ended.wording == (
            "Nobody pressed or typed a stop: the yes to The weekly letter "
            "in your inbox on this site ended because the member deleted "
            "their account."
        )
