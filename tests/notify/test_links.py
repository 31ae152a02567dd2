"""Links in messages: the RFC 8058 unsubscribe (GET changes nothing, the cookie-less one-click
POST revokes and holds back what was queued) and the click tracker, and what happens to forged,
altered and cross-member tokens."""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import EmailMessage
from urllib.parse import unquote

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import Clock
from tests.helpers import SMTPSink, text_body
from tests.notify.conftest import Audience


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def unsubscribe_path(mail: EmailMessage) -> str:
    [https] = re.findall(r"<(http[^>]+)>", str(mail["List-Unsubscribe"]))
    return _path(https)


def tracked_links(mail: EmailMessage) -> list[str]:
    return [_path(u) for u in re.findall(r"\((http://localhost/t/[^)\s]+)\)", text_body(mail))]


def consent_state(
    app: Flask, member: int, scope: str = "newsletter", channel: str = "email"
) -> tuple[bool, str] | None:
    from app.consent.models import ConsentEvent, ConsentState
    from app.extensions import db

    with app.app_context():
        state = db.session.get(ConsentState, (member, scope, channel))
        if state is None:
            return None
        event = db.session.get(ConsentEvent, state.event_id)
        assert event is not None
        return state.granted, event.source


@pytest.fixture
def mailed(
    app: Flask, audience: Audience, campaign: Callable[..., int], work: Callable, smtp: SMTPSink
) -> tuple[list[int], list[EmailMessage]]:
    members = audience.add(2, scope="new-stickers", channels=("email", "inbox"))
    campaign(scope="new-stickers", channels=("email",))
    work()
    return members, smtp.wait_for(2)


def member_of(app: Flask, mail: EmailMessage) -> int:
    from app.accounts.models import Member
    from app.extensions import db

    with app.app_context():
        address = str(mail["To"]).strip("<>").split("<")[-1].rstrip(">")
        found = db.session.scalar(select(Member.id).where(Member.email == address))
        assert found is not None
        return found


def test_get_shows_a_button_and_changes_nothing(app: Flask, mailed: tuple) -> None:
    _, [mail, _] = mailed
    member = member_of(app, mail)
    client = app.test_client()
    page = client.get(unsubscribe_path(mail))
    assert page.status_code == 200
    assert "Stop New sticker packs by email?" in page.get_data(as_text=True)
    assert client.head(unsubscribe_path(mail)).status_code == 200
    assert consent_state(app, member, "new-stickers") == (True, "preferences")


@pytest.mark.usefixtures("plain_cadence")
def test_one_click_post_without_cookies_revokes_and_holds_back_queued(
    app: Flask, mailed: tuple, campaign: Callable[..., int], clock: Clock
) -> None:
    from app.extensions import db
    from app.notify.models import Delivery

    _, [mail, other] = mailed
    member = member_of(app, mail)
    clock.advance(days=8)
    second = campaign(title="A second note", scope="new-stickers", channels=("email",))
    client = app.test_client()  # no cookie, no CSRF token: RFC 8058
    response = client.post(unsubscribe_path(mail), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and "Location" not in response.headers
    assert "Unsubscribed" in response.get_data(as_text=True)
    assert consent_state(app, member, "new-stickers") == (False, "unsubscribe-link")
    # the inbox permission is untouched: the link stops one scope on one channel
    assert consent_state(app, member, "new-stickers", "inbox") == (True, "preferences")
    neighbour = member_of(app, other)
    with app.app_context():
        rows = {
            d.member_id: d
            for d in db.session.scalars(select(Delivery).where(Delivery.campaign_id == second))
        }
        assert rows[member].state == "suppressed" and rows[member].reason == "consented"
        assert rows[neighbour].state == "queued"
        first = db.session.scalar(
            select(Delivery).where(Delivery.member_id == member, Delivery.campaign_id != second)
        )
        assert first is not None and first.unsubscribed_at is not None
    again = client.post(unsubscribe_path(mail))
    assert again.status_code == 200 and "Already stopped" in again.get_data(as_text=True)


def test_the_page_button_posts_to_the_same_place(app: Flask, mailed: tuple) -> None:
    _, [mail, _] = mailed
    client = app.test_client()
    html = client.get(unsubscribe_path(mail)).get_data(as_text=True)
    action = re.search(r'<form method="post" action="([^"]+)"', html)
    assert action is not None and action.group(1) == unsubscribe_path(mail)


def _altered(token: str) -> str:
    """``token`` with one character of its payload changed (the signature kept)."""
    body, signature = token.rsplit(".", 1)
    middle = len(body) // 2
    swapped = "B" if body[middle] != "B" else "C"
    return f"{body[:middle]}{swapped}{body[middle + 1 :]}.{signature}"


@pytest.mark.parametrize("mangle", ["forged", "altered", "truncated", "other-purpose", "empty"])
def test_bad_unsubscribe_tokens_are_refused(app: Flask, mailed: tuple, mangle: str) -> None:
    from app import signing

    _, [mail, _] = mailed
    member = member_of(app, mail)
    token = unsubscribe_path(mail).removeprefix("/u/")
    with app.test_request_context():
        bad = {
            "forged": signing.sign(
                "notify.unsubscribe", {"m": member, "s": "new-stickers", "c": "email", "d": None}
            )[:-4]
            + "AAAA",
            "altered": _altered(token),
            "truncated": token[:-6],
            "other-purpose": signing.sign(
                "consent.why", {"m": member, "s": "new-stickers", "c": "email"}
            ),
            "empty": "%20",
        }[mangle]
    client = app.test_client()
    for method in (client.get, client.post):
        response = method(f"/u/{bad}")
        assert response.status_code in (400, 404, 405)
    assert consent_state(app, member, "new-stickers") == (True, "preferences")


def test_a_token_for_another_member_stops_only_that_member(app: Flask, mailed: tuple) -> None:
    """Tokens name their member: one member's link never changes another's consent."""
    _, [mail, other] = mailed
    client = app.test_client()
    client.post(unsubscribe_path(mail))
    assert consent_state(app, member_of(app, other), "new-stickers") == (True, "preferences")


def test_click_redirects_to_the_signed_url_and_counts_as_engagement(
    app: Flask, mailed: tuple
) -> None:
    from app.consent.models import Contact
    from app.extensions import db
    from app.notify.models import Click, Delivery

    _, [mail, _] = mailed
    [link] = tracked_links(mail)
    member = member_of(app, mail)
    response = app.test_client().get(link)
    assert response.status_code == 302
    assert response.headers["Location"] == "https://example.org/a?x=1&y=2"
    with app.app_context():
        delivery = db.session.scalar(select(Delivery).where(Delivery.member_id == member))
        assert delivery is not None and delivery.clicked_at is not None
        assert db.session.scalar(select(Click.url)) == "https://example.org/a?x=1&y=2"
        contact = db.session.scalar(select(Contact).where(Contact.member_id == member))
        assert contact is not None and contact.engaged_how == "click"


def test_click_tokens_cannot_be_pointed_elsewhere(app: Flask, mailed: tuple) -> None:
    from app import signing

    _, [mail, _] = mailed
    [link] = tracked_links(mail)
    token = unquote(link.removeprefix("/t/"))
    payload, _, signature = token.rpartition(".")
    client = app.test_client()
    assert client.get(f"/t/{payload}.{'A' * len(signature)}").status_code == 400
    with app.test_request_context():
        evil = signing.sign("notify.unsubscribe", {"d": 1, "u": "https://evil.example/"})
        javascript = signing.sign("notify.click", {"d": 1, "u": "javascript:alert(1)"})
    assert client.get(f"/t/{evil}").status_code == 400
    assert client.get(f"/t/{javascript}").status_code == 400


def test_open_pixel_is_off_by_default(mailed: tuple) -> None:
    _, [mail, _] = mailed
    html = mail.get_body(("html",)).get_content()
    assert "/o/" not in html
