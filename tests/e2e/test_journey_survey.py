"""Journey 3, survey: a new visitor answers the reader survey, joins on the way (the answers are
kept on the device), confirms the address from the mail, comes back, sends the answers, sees what
they earned, and downloads the sticker pack. A member without the pack cannot download it."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.engage.models import SurveyResponse
from app.extensions import db
from app.stickers.builds import read_build
from tests.browser import LiveServer, csp_violations
from tests.conftest import PASSWORD, Clock
from tests.e2e.steps import sign_in, snapshot
from tests.helpers import SMTPSink, link_in
from tests.stickers.conftest import make_member

EMAIL = "wren@example.com"
SURVEY = "/surveys/reader-2026/"
NEXT_ARTICLE = "How small shops run loyalty without an app"


def _answer(page: Page) -> None:
    main = page.get_by_role("main")
    main.get_by_role("group", name="What best describes your work?").get_by_label(
        "Editorial or content"
    ).check()
    topics = main.get_by_role("group", name=re.compile("^Which topics do you want more of"))
    topics.get_by_label("Email deliverability").check()
    topics.get_by_label("Case studies from real teams").check()
    main.get_by_role("group", name="How useful were the articles you read here?").get_by_label(
        "4", exact=True
    ).check()
    main.get_by_role("group", name=re.compile("^How likely are you to recommend")).get_by_label(
        "9", exact=True
    ).check()
    main.get_by_label(re.compile("^What should we write about next")).fill(NEXT_ARTICLE)


def _expect_answers(page: Page) -> None:
    main = page.get_by_role("main")
    expect(main.get_by_label("Editorial or content")).to_be_checked()
    expect(main.get_by_label("Marketing or growth")).not_to_be_checked()
    expect(main.get_by_label("Email deliverability")).to_be_checked()
    expect(main.get_by_label("Case studies from real teams")).to_be_checked()
    expect(
        main.get_by_role("group", name="How useful were the articles you read here?").get_by_label(
            "4", exact=True
        )
    ).to_be_checked()
    expect(
        main.get_by_role("group", name=re.compile("^How likely are you to recommend")).get_by_label(
            "9", exact=True
        )
    ).to_be_checked()
    expect(main.get_by_label(re.compile("^What should we write about next"))).to_have_value(
        NEXT_ARTICLE
    )


def test_answer_the_survey_join_on_the_way_and_download_the_pack(
    page: Page,
    live_server: LiveServer,
    smtp: SMTPSink,
    built_packs: Flask,
    clock: Clock,
    tmp_path: Path,
) -> None:
    app = built_packs
    clock.set(datetime(2026, 12, 1, 10, tzinfo=UTC))  # while the survey is open

    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Surveys").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Surveys")
    page.get_by_role("main").get_by_role("link", name="Reader survey 2026", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}{SURVEY}")
    expect(page.locator(".reward-note")).to_contain_text("Spring birds")
    _answer(page)
    snapshot(page, "survey-1-answers")
    page.get_by_role("button", name="Keep my answers and sign in").click()

    keep = page.get_by_role("status").filter(has_text="Your answers are kept on this device.")
    expect(keep).to_be_visible()
    _expect_answers(page)
    keep.get_by_role("link", name="create an account").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Join Pullfirst Journal")
    page.get_by_label("Email", exact=True).fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")

    page.goto(link_in(smtp.wait_for(1)[0], "/verify/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your address is confirmed")
    # The confirmation link signs in once, and the welcome page leads back to the survey.
    page.get_by_role("main").get_by_role("button", name="Sign me in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome")
    page.get_by_role("link", name="Continue where you were").click()

    # Back on the survey, signed in, with every answer as it was left.
    expect(page).to_have_url(f"{live_server.url}{SURVEY}")
    expect(page.get_by_role("navigation", name="Account")).to_contain_text("Sign out")
    _expect_answers(page)
    snapshot(page, "survey-2-kept")
    page.get_by_role("button", name="Send my answers").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your answers")
    expect(page.get_by_role("heading", name="You earned")).to_be_visible()
    earned = page.locator("ul.reward-list")
    expect(earned.get_by_role("link")).to_have_text(
        ["Spring birds", "Member offers", "New sticker packs"]
    )
    snapshot(page, "survey-3-thanks")

    with app.app_context():
        [response] = db.session.scalars(select(SurveyResponse)).all()
        assert response.answers["next-article"] == NEXT_ARTICLE
        assert response.answers["recommend"] == 9

    # The pack that was earned: its page offers a download per messenger.
    earned.get_by_role("link", name="Spring birds").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Spring birds")
    get = page.get_by_role("region", name="Add the pack to your messenger")
    with page.expect_download() as started:
        get.get_by_role("link", name="Download for WhatsApp").click()
    download = started.value
    assert download.suggested_filename == "spring-birds-whatsapp.zip"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        names = archive.namelist()
        webps = [n for n in names if n.endswith(".webp")]
        # The pack's stickers, and the member's own robin with their name on its banner.
        built = read_build(Path(app.instance_path) / "stickers", "spring-birds")
        assert built is not None and built.personal is not None
        assert "contents.json" in names and len(webps) == len(built.stickers) + 1
        assert archive.read(webps[0])[8:12] == b"WEBP"
    snapshot(page, "survey-4-pack")

    # Every platform's zip answers 200 to the member who holds the pack.
    for platform in ("whatsapp", "telegram", "signal"):
        reply = page.request.get(f"/stickers/spring-birds/download/{platform}.zip")
        assert reply.status == 200, platform
        assert reply.headers["content-type"] == "application/zip"
        assert zipfile.ZipFile(io.BytesIO(reply.body())).testzip() is None
    assert csp_violations(page) == []

    # Someone else, signed in without the pack, gets nothing.
    account = page.get_by_role("navigation", name="Account")
    account.get_by_role("button", name="Sign out").click()
    expect(account.get_by_role("link", name="Sign in")).to_be_visible()
    make_member(app, clock, "gull@example.com", "Gull")
    sign_in(page, "gull@example.com", PASSWORD)
    page.goto("/stickers/spring-birds/")
    expect(page.get_by_role("heading", name="How to earn this pack")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("^Download for"))).to_have_count(0)
    for platform in ("whatsapp", "telegram", "signal"):
        reply = page.request.get(f"/stickers/spring-birds/download/{platform}.zip")
        assert reply.status in (403, 404), platform
        assert "content-disposition" not in reply.headers
    assert csp_violations(page) == []
