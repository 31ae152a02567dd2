"""Pages from files: the home page, articles, pages, tags, aliases, drafts and schedules."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import events
from app.accounts import members
from app.extensions import db
from app.site.events import ArticleRead
from tests.conftest import PASSWORD, Clock
from tests.helpers import sign_in
from tests.site.conftest import post


def _editor(app: Flask, clock: Clock) -> None:
    with app.app_context():
        members.create_member(
            "editor@example.com", PASSWORD, now=clock(), role="editor", verified=True
        )
        db.session.commit()


def test_home_lists_the_latest_public_posts_and_the_calls_to_action(client: FlaskClient) -> None:
    page = client.get("/").text
    titles = re.findall(r'class="post-card-title"><a href="([^"]+)"', page)
    assert titles == ["/posts/quiet-hours/", "/posts/ledger/", "/posts/why-pull-wins/"]
    assert "A draft idea" not in page and "From the future" not in page
    assert "An expired offer" not in page
    assert 'class="cta cta-home"' in page and 'href="/surveys/reader-2026/"' in page
    assert "<h1>Test Journal</h1>" in page


def test_article_shows_body_reading_time_tags_related_and_its_call_to_action(
    client: FlaskClient,
) -> None:
    page = client.get("/posts/why-pull-wins/").text
    assert "<h1>Why pull wins</h1>" in page
    assert "<strong>content worth finding</strong>" in page
    assert "1 min read" in page and "Maya Lind" in page
    assert 'href="/tags/strategy/"' in page and 'href="/tags/permission-marketing/"' in page
    related = page.split('id="related-title"')[1]
    assert "/posts/ledger/" in related and "/posts/quiet-hours/" not in related
    assert 'class="cta cta-article"' in page and 'href="/surveys/reader-2026/"' in page
    assert 'id="toc-title"' in page and 'href="#why-it-works"' in page
    assert '<h2 id="start-here">' in page  # "#" in the body is an h2: one h1 per page


def test_pages_and_their_slugs(client: FlaskClient) -> None:
    assert "<h1>About</h1>" in client.get("/about/").text
    assert client.get("/about").status_code == 308
    assert client.get("/no-such-page/").status_code == 404
    assert client.get("/posts/no-such-post/").status_code == 404


def test_tags_list_and_tag_pages_paginate(
    app: Flask, client: FlaskClient, content_dir: Path
) -> None:
    for number in range(12):
        (content_dir / "posts" / f"many-{number}.md").write_text(
            post(f"Many {number}", tags="[Bulk]", date=f"2026-03-{number + 1:02d}")
        )
    topics = client.get("/tags/").text
    assert 'href="/tags/bulk/"' in topics and "12 articles" in topics
    first = client.get("/tags/bulk/").text
    assert first.count('class="post-card"') == 10 and 'href="/tags/bulk/?page=2"' in first
    second = client.get("/tags/bulk/?page=2").text
    assert second.count('class="post-card"') == 2 and "Page 2 of 2" in second
    assert client.get("/tags/bulk/?page=3").status_code == 404
    assert client.get("/tags/bulk/?page=x").status_code == 404
    assert client.get("/tags/Bulk/").headers["Location"] == "/tags/bulk/"
    assert client.get("/tags/nothing/").status_code == 404
    assert client.get("/?page=2").status_code == 200


@pytest.mark.parametrize(
    "old", ["/old/why-pull-wins/", "/old/why-pull-wins", "/2026/pull", "/2026/pull/"]
)
def test_aliases_answer_with_a_301_to_the_current_url(client: FlaskClient, old: str) -> None:
    response = client.get(old)
    assert response.status_code == 301
    assert response.headers["Location"] == "/posts/why-pull-wins/"


@pytest.mark.parametrize("slug", ["draft-idea", "future-post", "expired-offer"])
def test_drafts_future_and_expired_posts_are_404_for_the_public(
    app: Flask, client: FlaskClient, clock: Clock, member: object, slug: str
) -> None:
    assert client.get(f"/posts/{slug}/").status_code == 404
    sign_in(client, "reader@example.com", PASSWORD)
    assert client.get(f"/posts/{slug}/").status_code == 404  # members are the public too


@pytest.mark.parametrize(
    ("slug", "reason"),
    [
        ("draft-idea", "This is a draft."),
        ("future-post", "Scheduled for 1 January 2999, 09:00 UTC."),
        ("expired-offer", "Expired on 3 January 2026, 00:00 UTC."),
    ],
)
def test_editors_preview_hidden_posts_marked_not_public(
    app: Flask, client: FlaskClient, clock: Clock, slug: str, reason: str
) -> None:
    _editor(app, clock)
    sign_in(client, "editor@example.com", PASSWORD)
    response = client.get(f"/posts/{slug}/")
    assert response.status_code == 200
    assert "Not public." in response.text and reason in response.text
    assert "no-store" in response.headers["Cache-Control"]


def test_a_post_goes_public_when_its_time_comes(client: FlaskClient, clock: Clock) -> None:
    assert client.get("/posts/future-post/").status_code == 404
    clock.set(datetime(2999, 1, 1, 9, 0, tzinfo=UTC))
    assert client.get("/posts/future-post/").status_code == 200
    assert "/posts/future-post/" in client.get("/").text


def test_edits_show_without_a_restart(client: FlaskClient, content_dir: Path) -> None:
    assert "Quiet hours" in client.get("/posts/quiet-hours/").text
    path = content_dir / "posts" / "quiet-hours.md"
    path.write_text(path.read_text().replace("Messages wait", "Every message waits"))
    assert "Every message waits" in client.get("/posts/quiet-hours/").text
    path.unlink()
    assert client.get("/posts/quiet-hours/").status_code == 404
    (content_dir / "posts" / "brand-new.md").write_text(post("Brand new"))
    assert client.get("/posts/brand-new/").status_code == 200


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"---\ntitle: [unclosed\n---\nx", "invalid YAML"),
        (b"---\ntitle: Bad date\ndate: 2026-13-45\n---\nx", "is not a date"),
        (b"---\ntitle: Bad type\ndate: 2026-01-01\ntags: {a: 1}\n---\nx", "tags must be a list"),
        (b"---\ntitle: caf\xe9\n---\n", "not UTF-8"),
        (b"", "file is empty"),
        (b"---\ntitle: Big\ndate: 2026-01-01\n---\n" + b"x" * 5_000_000, "the limit is"),
        (b"---\ndate: 2026-01-01\n---\nno title", "title is required"),
        (b"---\ntitle: No date\n---\nbody", "date is required"),
    ],
)
def test_a_broken_file_is_skipped_and_logged_while_every_other_page_works(
    client: FlaskClient,
    content_dir: Path,
    caplog: pytest.LogCaptureFixture,
    raw: bytes,
    expected: str,
) -> None:
    (content_dir / "posts" / "broken.md").write_bytes(raw)
    assert client.get("/posts/broken/").status_code == 404
    assert client.get("/posts/why-pull-wins/").status_code == 200
    assert client.get("/").status_code == 200
    logged = [r.getMessage() for r in caplog.records if "broken.md" in r.getMessage()]
    assert logged and expected in logged[0]
    assert re.search(r"broken\.md:\d+: ", logged[0])


def test_duplicate_slugs_keep_the_first_file(client: FlaskClient, content_dir: Path) -> None:
    (content_dir / "posts" / "zz-copy.md").write_text(post("Impostor", slug="quiet-hours"))
    assert "Impostor" not in client.get("/posts/quiet-hours/").text


def test_article_read_is_emitted_once_per_member_and_article_per_session(
    app: Flask,
    client: FlaskClient,
    member: object,
) -> None:
    seen: list[ArticleRead] = []
    events.subscribe(app, ArticleRead, seen.append)
    client.get("/posts/ledger/")
    assert seen == []  # anonymous visitors are not tracked
    sign_in(client, "reader@example.com", PASSWORD)
    client.get("/posts/ledger/")
    client.get("/posts/ledger/")
    client.get("/posts/quiet-hours/")
    client.get("/about/")
    assert [e.slug for e in seen] == ["ledger", "quiet-hours"]
    assert seen[0].member_id == member.id  # type: ignore[attr-defined]
    other = app.test_client()
    sign_in(other, "reader@example.com", PASSWORD)
    other.get("/posts/ledger/")
    assert [e.slug for e in seen] == ["ledger", "quiet-hours", "ledger"]
