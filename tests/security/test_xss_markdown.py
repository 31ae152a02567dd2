"""XSS through what editors write: every payload in the Markdown body of an article, in its
headings (and so in the table of contents), and in its front matter (title, description, author,
tags), rendered in Chromium under the real CSP on the article page, the home page, the topic
pages, the search results and the web editor's preview.

Payloads go ten to an article, so each also meets the others' half-open tags. Each payload is
also rendered alone by the server (with a marker word before it) and put into a live article
page in Chromium, one after the other: the marker shows that the payload's own text arrived.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page

from app.site.meta import MAX_TAG_LENGTH, tag_slug
from app.site.rendering import render_markdown
from tests.conftest import REPO, Clock
from tests.security.harness import make_member, sign_in_page
from tests.security.inert import assert_inert, batches, marker
from tests.security.payloads import xss_payloads

PAYLOADS = xss_payloads()
# Puts server-rendered HTML into the live page, as the article template does, and returns the
# text it shows.
LIVE_INSERT = """
(html) => {
  const box = document.querySelector('.prose');
  box.innerHTML = html;
  return box.innerText;
}
"""
BATCH = 10
BATCHES = list(batches(list(enumerate(PAYLOADS)), BATCH))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _body(batch: list[tuple[int, str]]) -> str:
    parts = []
    for index, payload in batch:
        parts += [marker(index), "", payload, "", f"## {marker(index)} {_one_line(payload)}", ""]
    return "\n".join(parts) + "\n"


def _tags(batch: list[tuple[int, str]]) -> list[str]:
    tags: dict[str, str] = {}
    for _, payload in batch:
        tag = _one_line(payload)[:MAX_TAG_LENGTH].strip()
        if tag_slug(tag) and tag_slug(tag) not in tags:
            tags[tag_slug(tag)] = tag
    return list(tags.values())


def _front_matter(number: int, batch: list[tuple[int, str]]) -> str:
    joined = " ".join(payload for _, payload in batch)
    meta = {
        "title": f"xsspost{number} {joined}",
        "description": joined,
        "author": joined,
        "date": "2026-01-05",
        "tags": _tags(batch),
    }
    # JSON is YAML: every value is quoted exactly.
    return "---\n" + "\n".join(f"{k}: {json.dumps(v)}" for k, v in meta.items()) + "\n---\n"


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    content = tmp_path / "content"
    shutil.copytree(REPO / "content", content)
    for number, batch in enumerate(BATCHES):
        (content / "posts" / f"xss-{number:02d}.md").write_text(
            _front_matter(number, batch) + _body(batch), encoding="utf-8"
        )
    app_config.update(CONTENT_DIR=str(content), POSTS_PER_PAGE=100)
    return app_config


def test_the_corpus_is_large_enough() -> None:
    assert len(PAYLOADS) >= 200


def test_articles_render_every_payload_inert(app: Flask, hostile_page: Page) -> None:
    page = hostile_page
    tried = 0
    for number, batch in enumerate(BATCHES):
        response = page.goto(f"/posts/xss-{number:02d}/")
        assert response is not None and response.status == 200, number
        payloads = [p for _, p in batch]
        assert_inert(page, f"article {number}", payloads)
        assert page.locator("h1").inner_text() == _one_line(
            f"xsspost{number} " + " ".join(payloads)
        )
        tried += len(batch)
    assert tried == len(PAYLOADS)


def test_each_payload_rendered_alone_is_inert_in_a_live_page(
    app: Flask, hostile_page: Page
) -> None:
    page = hostile_page
    with app.app_context():
        rendered = [
            render_markdown(f"{marker(i)}\n\n{p}\n\n## {_one_line(p)}\n").html
            for i, p in enumerate(PAYLOADS)
        ]
    response = page.goto("/posts/xss-00/")
    assert response is not None and response.status == 200
    for index, html in enumerate(rendered):
        shown = page.evaluate(LIVE_INSERT, html)
        assert marker(index) in shown, (PAYLOADS[index], html)
        assert_inert(page, f"payload {index} alone", [PAYLOADS[index]])


def test_listings_show_titles_descriptions_and_tags_as_text(app: Flask, hostile_page: Page) -> None:
    page = hostile_page
    pages = ["/", "/?page=2", "/tags/"]
    tag_pages = {tag_slug(t) for _, batch in enumerate(BATCHES) for t in _tags(batch)}
    pages += [f"/tags/{slug}/" for slug in sorted(tag_pages)[:20]]
    for path in pages:
        response = page.goto(path)
        if path == "/?page=2" and response is not None and response.status == 404:
            continue  # everything fitted on the first page
        assert response is not None and response.status == 200, path
        assert_inert(page, path, PAYLOADS)
    page.goto("/")
    shown = page.locator("body").inner_text()
    for number in range(len(BATCHES)):
        assert f"xsspost{number}" in shown, number


def test_search_results_show_payload_text_inert(app: Flask, hostile_page: Page) -> None:
    page = hostile_page
    for number, batch in enumerate(BATCHES):
        # The markers are words of the body: each search finds its article and quotes it.
        query = marker(batch[0][0])
        response = page.goto(f"/search?q={query}")
        assert response is not None and response.status == 200
        assert f"xsspost{number}" in page.locator("main").inner_text(), number
        assert_inert(page, f"search {query}", [p for _, p in batch])


def test_the_web_editor_previews_every_payload_inert(
    app: Flask, clock: Clock, hostile_page: Page
) -> None:
    page = hostile_page
    make_member(app, clock, "editor@example.com", role="editor")
    sign_in_page(page, "editor@example.com")
    for number, batch in enumerate(BATCHES):
        response = page.goto(f"/admin/content/post/xss-{number:02d}")
        assert response is not None and response.status == 200, number
        assert_inert(page, f"editor {number}", [p for _, p in batch])
        assert marker(batch[0][0]) in page.locator("#preview").inner_text(), number
        # The source is shown as typed in the editor's text area, never as markup.
        typed = page.locator("textarea").first.input_value()
        assert _body(batch).strip() in typed.replace("\r\n", "\n"), number
