"""Journey 7, editor: an editor writes an article in the web editor, watches the live preview,
previews it on the server and on the site while it is a draft, publishes it, and finds it in
site search and in the sitemap. The content folder is a copy, so the journey writes real files."""

from __future__ import annotations

import io
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser import LiveServer, csp_violations
from tests.conftest import PASSWORD, REPO
from tests.e2e.steps import sign_in, snapshot

EDITOR = "editor@example.com"
TITLE = "Marmalade and the quiet shop"
SLUG = "marmalade-and-the-quiet-shop"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
TEXT = f"""---
title: "{TITLE}"
description: "How a small shop sold marmalade by writing fewer, better letters."
date: 2026-11-20
tags: [Case studies, Consent]
draft: true
---
The shop on the corner sold **marmalade** and wrote to its customers once a season.

## What they stopped doing

- No reminders.
- No countdowns.

| Letters a year | Replies |
| --- | --- |
| 4 | 37 |
"""


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    content = tmp_path / "content"
    shutil.copytree(REPO / "content", content)
    # Each process looks at the folder and the index at most every CONTENT_RECHECK_SECONDS
    # (a second by default); 0 makes "right after publishing" deterministic.
    return {**app_config, "CONTENT_DIR": str(content), "CONTENT_RECHECK_SECONDS": 0}


def _sitemap_urls(page: Page) -> set[str]:
    response = page.request.get("/sitemap.xml")
    assert response.status == 200
    root = ET.fromstring(response.body())  # noqa: S314 - the app's own sitemap
    return {loc.text or "" for loc in root.iter(f"{SITEMAP}loc")}


def _search(page: Page, words: str) -> None:
    page.get_by_role("searchbox", name="Search articles").fill(words)
    page.get_by_role("search").get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Search")


def test_write_preview_publish_and_find_an_article(
    page: Page, live_server: LiveServer, app: Flask, tmp_path: Path
) -> None:
    result = app.test_cli_runner().invoke(
        args=["users", "create", EDITOR, "--role", "editor", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    sign_in(page, EDITOR, PASSWORD)

    page.get_by_role("navigation", name="Account").get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Admin")
    page.get_by_role("main").get_by_role("link", name="Content", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Content")
    new = page.get_by_role("region", name="New draft")
    new.get_by_label("Title").fill(TITLE)
    new.get_by_label("Post", exact=True).check()
    new.get_by_role("button", name="Create draft").click()

    expect(page.get_by_role("status")).to_contain_text(f"Created {SLUG}.md as a draft.")
    assert (tmp_path / "content" / "posts" / f"{SLUG}.md").is_file()
    source = page.get_by_label("Front matter and Markdown")
    expect(source).to_have_value(re.compile(f'^---\ntitle: "{TITLE}"'))

    # The live preview: the server renders what is typed, the script swaps it in.
    source.fill(TEXT)
    preview = page.get_by_role("region", name="Preview")
    expect(preview.get_by_role("heading", name="What they stopped doing")).to_be_visible()
    expect(preview.get_by_role("table")).to_contain_text("Replies")
    snapshot(page, "editor-1-live-preview")

    # The server-side preview keeps the text and saves nothing.
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith(f"/admin/content/post/{SLUG}")
    ) as posted:
        page.get_by_role("button", name="Preview", exact=True).click()
    assert posted.value.status == 200
    expect(page.get_by_text("as a draft.")).to_have_count(0)  # a new page, without the flash
    expect(source).to_have_value(TEXT)
    expect(preview.locator("strong")).to_have_text("marmalade")
    assert (
        "What they stopped doing" not in (tmp_path / "content" / "posts" / f"{SLUG}.md").read_text()
    )

    # Saved as a draft, it is visible to editors only, marked as such, and nowhere public.
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    expect(page.get_by_role("main")).to_contain_text("Not public.")
    page.get_by_role("link", name="Preview it on the site").click()
    expect(page).to_have_url(f"{live_server.url}/posts/{SLUG}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.get_by_role("status").filter(has_text="Not public.")).to_be_visible()
    assert f"{live_server.url}/posts/{SLUG}/" not in _sitemap_urls(page)
    _search(page, "marmalade")
    expect(page.get_by_role("heading", name="No results")).to_be_visible()
    page.go_back()
    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/admin/content/post/{SLUG}")

    page.get_by_role("button", name="Publish now").click()
    expect(page.get_by_role("status")).to_contain_text("Published.")
    expect(page.get_by_role("main")).to_contain_text(f"Public at /posts/{SLUG}/")
    saved = (tmp_path / "content" / "posts" / f"{SLUG}.md").read_text()
    assert "draft:" not in saved and "What they stopped doing" in saved
    snapshot(page, "editor-2-published")

    # Readers find it: site search, the article itself, and the sitemap.
    _search(page, "marmalade letters")
    hits = page.locator("ol.search-hits")
    expect(hits.get_by_role("link", name=TITLE, exact=True)).to_be_visible()
    snapshot(page, "editor-3-search")
    hits.get_by_role("link", name=TITLE, exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/posts/{SLUG}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.get_by_text("Not public.")).to_have_count(0)
    assert f"{live_server.url}/posts/{SLUG}/" in _sitemap_urls(page)

    # A visitor who is not signed in sees the same article.
    account = page.get_by_role("navigation", name="Account")
    account.get_by_role("button", name="Sign out").click()
    expect(account.get_by_role("link", name="Sign in")).to_be_visible()
    page.goto(f"/posts/{SLUG}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    assert csp_violations(page) == []


# --- the editor's own tools -------------------------------------------------------------------

LEDGER = "/admin/content/post/consent-ledger"
GUARD = """() => {
  const event = new Event("beforeunload", { cancelable: true });
  window.dispatchEvent(event);
  return event.defaultPrevented;
}"""
CURSOR_LINE = """() => {
  const text = document.querySelector("textarea[name=text]");
  return text.value.slice(0, text.selectionStart).split("\\n").length;
}"""


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 400), (40, 110, 190)).save(buffer, "PNG")
    return buffer.getvalue()


def _editor_signed_in(page: Page, app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["users", "create", EDITOR, "--role", "editor", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    sign_in(page, EDITOR, PASSWORD)


def test_fields_lines_check_upload_guard_and_autosave(
    page: Page, live_server: LiveServer, app: Flask, tmp_path: Path
) -> None:
    _editor_signed_in(page, app)
    page.goto(LEDGER)
    source = page.get_by_label("Front matter and Markdown")
    fields = page.get_by_role("group", name="Fields")

    # Fields beside the text follow the front matter, and write it.
    title = fields.get_by_label("Title")
    expect(title).to_have_value("Keep a ledger of every yes and every no")
    title.fill("A ledger of every yes")
    expect(source).to_have_value(re.compile(r'^---\ntitle: "A ledger of every yes"\n'))
    source.fill(
        source.input_value().replace(
            "tags: [Consent, Permission marketing]", "tags: [Consent, Ledgers]"
        )
    )
    expect(fields.get_by_label("Tags")).to_have_value("Consent, Ledgers")

    # Line numbers, and a misspelt field marked at its line before anything is saved.
    expect(page.locator("#gutter .ln")).to_have_count(len(source.input_value().split("\n")))
    source.fill(source.input_value().replace("author: Maya Lind", "authr: Maya Lind"))
    check = page.get_by_role("region", name="Check")
    expect(check.get_by_role("listitem")).to_have_text(
        [re.compile(r"^Line 6: unknown field 'authr'")]
    )
    expect(page.locator("#gutter .ln").nth(5)).to_have_class(re.compile(r"\bln-error\b"))
    check.get_by_role("link", name="Line 6").click()
    assert page.evaluate(CURSOR_LINE) == 6
    snapshot(page, "editor-4-check-at-its-line")

    # An image uploaded without leaving the page lands at the cursor; typed text stays.
    source.press("Control+End")
    page.keyboard.type("\nA paragraph typed before the upload.")
    upload = page.get_by_role("region", name="Add an image")
    upload.get_by_label(re.compile("^Image")).set_input_files(
        files=[{"name": "blue.png", "mimeType": "image/png", "buffer": _png()}]
    )
    upload.get_by_label("Describe the image (alt text)").fill("A blue field")
    upload.get_by_role("button", name="Upload").click()
    expect(upload).to_contain_text("Uploaded in widths")
    expect(source).to_have_value(
        re.compile(
            r"A paragraph typed before the upload\.\n\n"
            r"!\[A blue field\]\(/images/blue-[0-9a-f]{6}-\d+\.webp\)\n$"
        )
    )
    assert page.url == f"{live_server.url}{LEDGER}"
    assert page.evaluate(GUARD) is True  # leaving now would lose the text: the browser asks

    # A few seconds later the text is kept on the server; after a reload it is offered back.
    expect(page.locator("#autosave-status")).to_contain_text("Unsaved text kept at")
    assert page.evaluate(GUARD) is False
    kept = source.input_value()
    page.reload()
    offer = page.get_by_role("region", name="Unsaved text")
    expect(offer).to_contain_text("not saved")
    offer.get_by_role("link", name="Restore it").click()
    expect(source).to_have_value(kept)
    expect(check.get_by_role("listitem").first).to_contain_text("Line 6")

    source.fill(kept.replace("authr:", "author:"))
    expect(check.get_by_role("listitem")).to_have_count(0)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    expect(page.get_by_role("region", name="Unsaved text")).to_have_count(0)
    saved = (tmp_path / "content" / "posts" / "consent-ledger.md").read_text()
    assert "A paragraph typed before the upload." in saved and "![A blue field](" in saved
    assert csp_violations(page) == []


def test_survey_questions_form_writes_the_front_matter(
    page: Page, live_server: LiveServer, app: Flask, tmp_path: Path
) -> None:
    _editor_signed_in(page, app)
    page.goto("/admin/content")
    new = page.get_by_role("region", name="New survey")
    new.get_by_label("Survey title").fill("Seasons")
    new.get_by_role("button", name="Create survey").click()
    expect(page).to_have_url(f"{live_server.url}/admin/content/surveys/seasons")
    source = page.get_by_label("Front matter and Markdown")
    questions = page.get_by_role("group", name="Questions")
    expect(questions.get_by_role("group", name="Question 1")).to_be_visible()

    questions.get_by_role("button", name="Add a question").click()
    second = questions.get_by_role("group", name="Question 2")
    second.get_by_label("Label").fill("Which season do you like best?")
    second.get_by_label("Type").select_option("single")
    second.get_by_label("Options, one a line").fill("Spring\nSummer\nAutumn")
    second.get_by_label("Required").check()
    second.get_by_role("button", name="Move up").click()
    expect(source).to_have_value(
        re.compile(
            r"questions:\n  - id: question-2\n    type: single\n"
            r'    label: "Which season do you like best\?"\n    required: true\n'
            r'    options:\n      - "Spring"\n      - "Summer"\n      - "Autumn"\n'
            r"  - id: first\n"
        )
    )
    questions.get_by_role("group", name="Question 2").get_by_role("button", name="Remove").click()
    expect(source).not_to_have_value(re.compile("id: first"))
    check = page.get_by_role("region", name="Check")
    expect(page.get_by_text("No problems found.")).to_be_visible()
    expect(check.get_by_role("listitem")).to_have_count(0)

    # The text changed by hand shows in the form.
    source.fill(source.input_value().replace("Autumn", "Winter"))
    expect(questions.get_by_label("Options, one a line")).to_have_value("Spring\nSummer\nWinter")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    page.goto("/surveys/seasons/")
    expect(page.get_by_text("Which season do you like best?")).to_be_visible()
    expect(page.get_by_label("Winter")).to_be_visible()
    assert csp_violations(page) == []


@pytest.mark.parametrize("width", [390, 1280])
def test_the_editors_fit_a_phone_and_a_laptop(page: Page, app: Flask, width: int) -> None:
    _editor_signed_in(page, app)
    page.set_viewport_size({"width": width, "height": 900})
    for name, url in (
        ("post", LEDGER),
        ("survey", "/admin/content/surveys/reader-2026"),
        ("list", "/admin/content"),
    ):
        page.goto(url)
        if name != "list":
            expect(page.get_by_role("group", name="Fields")).to_be_visible()
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow == 0, url
        snapshot(page, f"editor-5-{name}-{width}")
