"""ETag, Last-Modified, 304s and a Cache-Control that lets a shared cache keep anonymous pages."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from werkzeug.http import http_date

from app.site import content
from app.site.meta import tag_slug
from app.site.pages import Page
from tests.conftest import PASSWORD, Clock
from tests.helpers import sign_in

PUBLIC = [
    "/",
    "/posts/why-pull-wins/",
    "/about/",
    "/tags/",
    "/tags/strategy/",
    "/search?q=ledger",
    "/feed.xml",
    "/tags/strategy/feed.xml",
    "/sitemap.xml",
    "/robots.txt",
    "/og/ledger.png",
]


@pytest.mark.parametrize("url", PUBLIC)
def test_anonymous_public_pages_are_shared_cacheable_and_set_no_cookie(
    client: FlaskClient, url: str
) -> None:
    response = client.get(url)
    assert response.status_code == 200
    cache = response.headers["Cache-Control"]
    assert "public" in cache and "s-maxage=30" in cache and "max-age=0" in cache
    assert response.headers.get("ETag")
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("url", PUBLIC)
def test_a_conditional_get_answers_304(client: FlaskClient, url: str) -> None:
    first = client.get(url)
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_last_modified_comes_from_the_article_and_if_modified_since_works(
    client: FlaskClient,
) -> None:
    response = client.get("/posts/ledger/")
    assert response.headers["Last-Modified"] == "Sun, 01 Feb 2026 00:00:00 GMT"
    again = client.get(
        "/posts/ledger/", headers={"If-Modified-Since": "Sun, 01 Feb 2026 00:00:00 GMT"}
    )
    assert again.status_code == 304


def test_a_members_pages_are_private_and_never_stored(client: FlaskClient, member: object) -> None:
    sign_in(client, "reader@example.com", PASSWORD)
    for url in ("/", "/posts/ledger/", "/search?q=ledger", "/tags/"):
        response = client.get(url)
        assert response.headers["Cache-Control"] == "private, no-store", url
        assert "public" not in response.headers["Cache-Control"]
        assert "Robin Reader" in response.text or url == "/feed.xml"


def test_a_visitor_with_a_session_is_not_served_a_shared_page(client: FlaskClient) -> None:
    client.get("/signin")  # the sign-in form puts a CSRF token in the session
    response = client.get("/posts/ledger/")
    assert "private" in response.headers["Cache-Control"]


def test_content_images_are_cached_for_a_year(client: FlaskClient, content_dir: object) -> None:
    from pathlib import Path

    from PIL import Image

    folder = Path(str(content_dir)) / "images"
    folder.mkdir()
    Image.new("RGB", (4, 4)).save(folder / "dot-abc123-4.webp")
    with client.get("/images/dot-abc123-4.webp") as response:
        assert response.status_code == 200
        assert "immutable" in response.headers["Cache-Control"]
    assert client.get("/images/../site.toml").status_code == 404


@pytest.mark.parametrize(
    ("url", "tag"),
    [
        ("/", None),
        ("/tags/", None),
        ("/feed.xml", None),
        ("/sitemap.xml", None),
        ("/tags/strategy/", "strategy"),
        ("/tags/strategy/feed.xml", "strategy"),
    ],
)
def test_listings_and_feeds_are_as_new_as_their_newest_post(
    client: FlaskClient, clock: Clock, url: str, tag: str | None
) -> None:
    posts = [
        p
        for p in content_posts(client)
        if tag is None or tag in {tag_slug(name) for name in p.tags}
    ]
    newest = max(p.modified_at for p in posts if p.is_public(clock()) and p.modified_at)
    assert client.get(url).headers["Last-Modified"] == http_date(newest)


def content_posts(client: FlaskClient) -> list[Page]:
    with client.application.app_context():
        return list(content.current().posts.values())
