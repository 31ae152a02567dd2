"""Journey 8, member: a member with a history (a survey response, a pack with their name on a
sticker, a yes to a scope) downloads everything held about them, deletes the account, and
nothing personal remains: no row anywhere holds their address, name or answers, the consent
ledger is kept but points at no one, their sticker is gone, and signing in fails."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import MetaData, func, select

from app.consent.models import ConsentEvent, ConsentSubject
from app.database.core import Base
from app.engage.responses import get_survey, submit_response
from app.extensions import db
from tests.browser import LiveServer, csp_violations
from tests.conftest import PASSWORD, Clock
from tests.e2e.steps import sign_in, snapshot
from tests.helpers import SMTPSink
from tests.stickers.conftest import make_member

EMAIL = "Kestrel.Keeper@example.com"
NAME = "Kestrel Keeper"
ANSWER = "Tell the story of the bakery on Quillfeather Street"
OFFERS_WORDING = (
    "Yes, tell me about member offers. I can stop them with one click. At most "
    "one message a week and two a month, between 09:00 and 20:00 your time."
)


def _member_with_a_history(app: Flask, clock: Clock) -> int:
    member_id = make_member(app, clock, EMAIL, NAME)
    with app.app_context():
        submit_response(
            member_id,
            get_survey("reader-2026"),
            {
                "role": ["Student or researcher"],
                "usefulness": ["5"],
                "recommend": ["10"],
                "next-article": [ANSWER],
            },
            clock(),
        )
        db.session.commit()
    return member_id


def _cells_holding(app: Flask, needles: list[str]) -> list[str]:
    """Every ``table.column`` of the database whose value contains one of ``needles``."""
    found = []
    with app.app_context():
        metadata = MetaData()
        metadata.reflect(db.engine)
        with db.engine.connect() as connection:
            for table in metadata.sorted_tables:
                for row in connection.execute(select(table)).mappings():
                    for column, value in row.items():
                        text = json.dumps(value, default=str) if value is not None else ""
                        if any(n.lower() in text.lower() for n in needles):
                            found.append(f"{table.name}.{column}")
    return sorted(set(found))


def test_export_the_data_delete_the_account_and_nothing_personal_remains(
    page: Page,
    live_server: LiveServer,
    smtp: SMTPSink,
    built_packs: Flask,
    clock: Clock,
    tmp_path: Path,
) -> None:
    app = built_packs
    clock.set(datetime(2026, 12, 1, 10, tzinfo=UTC))  # while the survey is open
    member_id = _member_with_a_history(app, clock)
    sign_in(page, EMAIL, PASSWORD)

    # The pack the survey earned, with the member's name drawn on one sticker.
    reply = page.request.get("/stickers/spring-birds/download/signal.zip")
    assert reply.status == 200
    own_stickers = Path(app.instance_path) / "stickers" / "_members" / str(member_id)
    assert own_stickers.is_dir() and any(own_stickers.rglob("*.webp"))

    page.get_by_role("navigation", name="Account").get_by_role("link", name="Permissions").click()
    control = page.locator("#scope-offers form.consent-choices")
    expect(control.locator(".consent-sentence")).to_have_text(OFFERS_WORDING)
    control.get_by_role("switch", name="Email").check()
    control.get_by_role("button", name="Save my choices").click()
    expect(page.locator("#scope-offers").get_by_role("row", name="Email")).to_contain_text(
        "Yes since"
    )

    # The export: one JSON file with everything held about the member.
    record = page.get_by_role("region", name="Your record and your data")
    with page.expect_download() as started:
        record.get_by_role("link", name="Download everything we hold about you").click()
    download = started.value
    assert download.suggested_filename == "pullfirst-export-20261201.json"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    data: dict[str, Any] = json.loads(saved.read_text(encoding="utf-8"))
    assert data["account"]["email"] == EMAIL and data["account"]["display_name"] == NAME
    exported = json.dumps(data)
    assert ANSWER in exported  # the survey answers
    assert "pack:spring-birds" in exported  # what they earned
    assert "survey:reader-2026" in exported  # what they did
    history = [
        e
        for area in data.values()
        if isinstance(area, dict)
        for e in area.get("consent_history", [])
    ]
    assert [(e["scope"], e["channel"], e["action"], e["wording"]) for e in history] == [
        ("offers", "email", "grant", OFFERS_WORDING)
    ]
    snapshot(page, "member-1-permissions")

    # What the scan below must no longer find, it finds now.
    assert {"members.email", "members.display_name", "survey_responses.answers"} <= set(
        _cells_holding(app, [EMAIL, NAME, ANSWER])
    )

    # Deleting asks for the password and a tick, then signs out.
    record.get_by_role("link", name="Delete your account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete your account")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label(
        "I understand that my account, rewards and settings are deleted for good."
    ).check()
    snapshot(page, "member-2-delete")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("status")).to_contain_text("Your account is deleted.")
    account_nav = page.get_by_role("navigation", name="Account")
    expect(account_nav.get_by_role("link", name="Sign in")).to_be_visible()
    snapshot(page, "member-3-deleted")

    # Nothing personal remains in the database …
    assert _cells_holding(app, [EMAIL, NAME, ANSWER]) == []
    with app.app_context():
        # The yes, and the revoke that deleting the account appended: the ledger ends honestly.
        events = list(db.session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)))
        assert [(e.action, e.source) for e in events] == [
            ("grant", "preferences"),
            ("revoke", "deletion"),
        ]
        subject = db.session.scalars(select(ConsentSubject)).one()
        assert subject.member_id is None and subject.salt is None
        assert subject.pseudonymised_at is not None
        for table in (
            "members",
            "survey_responses",
            "entitlements",
            "actions",
            "sign_ins",
            "consent_states",
        ):
            count = db.session.scalar(select(func.count()).select_from(Base.metadata.tables[table]))
            assert count == 0, table
    # … nor on disk: the sticker with their name is gone.
    assert not own_stickers.exists()

    # And the address no longer signs anyone in.
    page.goto("/signin")
    page.get_by_label("Email", exact=True).fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("main")).to_contain_text(
        "That email and password do not match an account."
    )
    expect(account_nav.get_by_role("link", name="Sign in")).to_be_visible()
    assert csp_violations(page) == []
