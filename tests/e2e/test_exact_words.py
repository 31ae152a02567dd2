"""In a real browser, what a member reads on the unsubscribe page and the permissions page (the
``innerText`` of the controls' words) is, byte for byte, what the ledger records when they use
those controls."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD, Clock
from tests.consent import world
from tests.e2e.steps import sign_in, snapshot
from tests.helpers import SMTPSink
from tests.notify.conftest import campaign, work  # noqa: F401 - fixtures

EMAIL = "reader@example.com"


def _member(app: Flask, clock: Clock) -> int:
    from app.accounts import members
    from app.extensions import db

    at = clock() - timedelta(days=10)
    with app.app_context():
        reader = members.create_member(EMAIL, PASSWORD, now=at, verified=True)
        db.session.flush()
        for channel in ("email", "inbox"):
            world.consent(reader.id, "newsletter", channel, granted=True, version=1, at=at)
        db.session.commit()
        return int(reader.id)


def _recorded(app: Flask, member_id: int) -> tuple[str, str, str]:
    from app.consent.ledger import consents

    with app.app_context():
        event = consents.history(member_id)[0]
        return event.action, event.wording, event.wording_hash


def _read(page: Page, control: str) -> str:
    """The controls' words as the browser renders them, one element a line."""
    return "\n".join(page.locator(f'[data-consent-words="{control}"]').all_inner_texts())


def _assert_recorded(app: Flask, member_id: int, action: str, words: str) -> None:
    assert _recorded(app, member_id) == (
        action,
        words,
        hashlib.sha256(words.encode("utf-8")).hexdigest(),
    )


def test_the_browser_shows_exactly_the_words_the_ledger_records(
    app: Flask,
    page: Page,
    clock: Clock,
    smtp: SMTPSink,
    campaign: Callable[..., int],  # noqa: F811 - fixtures
    work: Callable,  # noqa: F811 - fixtures
) -> None:
    member_id = _member(app, clock)
    campaign(channels=("email",))
    assert work()["sent"] == 1
    [mail] = smtp.wait_for(1)
    [link] = re.findall(r"https?://\S+/u/\S+", mail.get_body(("plain",)).get_content())

    page.goto(link)
    words = _read(page, "unsubscribe newsletter email")
    assert words == "Stop The weekly letter by email?\nUnsubscribe"
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Unsubscribed")
    _assert_recorded(app, member_id, "revoke", words)

    sign_in(page, EMAIL, PASSWORD)
    page.goto("/me/permissions")
    words = _read(page, "stop newsletter inbox")
    assert words == "Stop The weekly letter in your inbox on this site"
    page.locator('[data-consent-words="stop newsletter inbox"]').click()
    expect(page.locator(".flash")).to_contain_text("Stopped.")
    _assert_recorded(app, member_id, "revoke", words)

    page.goto("/me/permissions")
    control = page.locator(
        "form.consent-choices", has=page.locator('[data-consent-words="choices newsletter"]')
    )
    words = _read(page, "choices newsletter")  # the sentence, shown once above the switches
    assert words.startswith("Yes, send me the weekly letter.") and "\n" not in words
    control.get_by_role("switch", name="Email").check()
    control.get_by_role("button", name="Save my choices").click()
    expect(page.locator('[data-consent-words="stop newsletter email"]')).to_be_visible()
    snapshot(page, "exact-words-permissions")
    _assert_recorded(app, member_id, "grant", words)
