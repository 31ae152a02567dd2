"""Journey 4, redeem: a visitor types an in-store code from a batch the marketer issued, signs in
on the way (the code is kept), redeems it, sees the sticker pack and the scope offer it earned,
and opts in on the permissions page with the exact wording, which the ledger keeps."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.consent.models import ConsentEvent, ConsentSubject
from app.extensions import db
from tests.browser import LiveServer, csp_violations
from tests.conftest import PASSWORD, Clock
from tests.e2e.steps import snapshot
from tests.helpers import SMTPSink
from tests.stickers.conftest import make_member

EMAIL = "robin@example.com"
OFFERS_WORDING = (
    "Yes, tell me about member offers. I can stop them with one click. At most "
    "one message a week and two a month, between 09:00 and 20:00 your time."
)


def _issue_codes(app: Flask, tmp_path: Path) -> list[str]:
    """What the marketer does: ``flask codes issue``, then hands out the printed codes."""
    out = tmp_path / "spring-store.csv"
    result = app.test_cli_runner().invoke(
        args=[
            "codes",
            "issue",
            "--batch",
            "spring-store",
            "--count",
            "3",
            "--uses",
            "1",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    with out.open(newline="") as handle:
        return [row["code"] for row in csv.DictReader(handle)]


def test_redeem_a_code_see_the_pack_and_the_offer_and_opt_in(
    page: Page,
    live_server: LiveServer,
    smtp: SMTPSink,
    built_packs: Flask,
    clock: Clock,
    tmp_path: Path,
) -> None:
    app = built_packs
    code = _issue_codes(app, tmp_path)[0]
    member_id = make_member(app, clock, EMAIL, "Robin")

    # Typed the way people copy a receipt: lower case, no dashes.
    page.goto("/redeem")
    typed = code.replace("-", " ").lower()
    page.get_by_label(re.compile("code", re.I)).fill(typed)
    page.get_by_role("button", name="Keep my code and sign in").click()
    keep = page.get_by_role("status").filter(has_text="We kept your code on this device.")
    expect(keep).to_be_visible()
    keep.get_by_role("link", name="sign in").click()
    page.get_by_label("Email", exact=True).fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{live_server.url}/redeem")
    expect(page.get_by_label(re.compile("code", re.I))).not_to_have_value("")
    snapshot(page, "redeem-1-kept")
    page.get_by_role("button", name="Redeem", exact=True).click()

    expect(page).to_have_url(f"{live_server.url}/redeem/spring-store")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your code is redeemed")
    earned = page.locator("ul.reward-list")
    expect(earned.get_by_role("link")).to_have_text(
        ["Spring birds", "Member offers", "New sticker packs"]
    )
    snapshot(page, "redeem-2-earned")

    # The pack is theirs: previews and a download per messenger.
    earned.get_by_role("link", name="Spring birds").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Spring birds")
    get = page.get_by_role("region", name="Add the pack to your messenger")
    expect(get.get_by_role("link", name=re.compile("^Download for"))).to_have_count(3)
    previews = page.get_by_role("region", name="The stickers").get_by_role("img")
    expect(previews.first).to_have_js_property("complete", True)
    assert previews.first.evaluate("img => img.naturalWidth") > 0
    page.go_back()

    # The scope is only offered: off until the member says yes, on the permissions page.
    page.locator("ul.reward-list").get_by_role("link", name="Member offers").click()
    expect(page).to_have_url(re.compile(r"/me/permissions#scope-offers$"))
    card = page.locator("#scope-offers")
    expect(card.get_by_role("heading", name="Member offers")).to_be_visible()
    expect(card).to_contain_text("Offered to you because you")
    email_row = card.get_by_role("row", name=re.compile("^Email"))
    expect(email_row).to_contain_text("Not asked yet")
    control = card.locator("form.consent-choices")
    expect(control.locator(".consent-sentence")).to_have_text(OFFERS_WORDING)
    agree = control.get_by_role("switch", name="Email")
    expect(agree).not_to_be_checked()
    agree.check()
    control.get_by_role("button", name="Save my choices").click()

    card = page.locator("#scope-offers")
    email_row = card.get_by_role("row", name=re.compile("^Email"))
    expect(email_row).to_contain_text("Yes since")
    expect(card.get_by_role("row", name=re.compile("^Inbox"))).to_contain_text("Not asked yet")
    snapshot(page, "redeem-3-permissions")

    # The member's own view of the ledger quotes the words they said yes to.
    page.get_by_role("link", name="Consent history").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Consent history")
    event = page.locator("ol.timeline > li")
    expect(event).to_have_count(1)
    expect(event.get_by_role("heading")).to_have_text("Yes to Member offers by email")
    expect(event.locator("blockquote")).to_have_text(OFFERS_WORDING)
    snapshot(page, "redeem-4-history")

    with app.app_context():
        rows = db.session.execute(
            select(
                ConsentSubject.member_id,
                ConsentEvent.scope,
                ConsentEvent.channel,
                ConsentEvent.action,
                ConsentEvent.wording,
                ConsentEvent.source,
            ).join(ConsentSubject, ConsentSubject.id == ConsentEvent.subject_id)
        ).all()
    assert [tuple(r) for r in rows] == [
        (member_id, "offers", "email", "grant", OFFERS_WORDING, "preferences")
    ]
    assert csp_violations(page) == []
