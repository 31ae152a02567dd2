"""What search engines and link previews read: tags, JSON-LD, sitemap, robots, feeds, cards."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from PIL import Image

from app.site import feeds
from tests.site.conftest import post

BASE = "http://localhost"


def _json_ld(html: str) -> list[dict[str, object]]:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return [json.loads(block) for block in blocks]


def _meta(html: str, key: str) -> str | None:
    match = re.search(rf'<meta (?:name|property)="{re.escape(key)}" content="([^"]*)"', html)
    return match.group(1) if match else None


def test_article_head_has_title_description_canonical_opengraph_and_twitter(
    client: FlaskClient,
) -> None:
    html = client.get("/posts/why-pull-wins/").text
    assert "<title>Why pull wins · Test Journal</title>" in html
    assert _meta(html, "description") == (
        "Readers who come on their own are worth ten who were pushed."
    )
    assert f'<link rel="canonical" href="{BASE}/posts/why-pull-wins/">' in html
    assert _meta(html, "og:type") == "article"
    assert _meta(html, "og:url") == f"{BASE}/posts/why-pull-wins/"
    assert _meta(html, "og:image") == f"{BASE}/og/why-pull-wins.png"
    assert _meta(html, "og:image:width") == "1200" and _meta(html, "og:image:height") == "630"
    assert _meta(html, "twitter:card") == "summary_large_image"
    assert (
        _meta(
            html,
            "article:published_time",
        )
        == "2026-01-05T00:00:00+00:00"
    )
    assert '<html lang="en">' in html


def test_article_json_ld_parses_and_describes_the_article_and_its_breadcrumbs(
    client: FlaskClient,
) -> None:
    data = _json_ld(client.get("/posts/why-pull-wins/").text)
    kinds = {block["@type"] for block in data}
    assert kinds == {"BlogPosting", "BreadcrumbList"}
    article = next(b for b in data if b["@type"] == "BlogPosting")
    assert article["headline"] == "Why pull wins"
    assert article["datePublished"] == "2026-01-05T00:00:00+00:00"
    assert article["author"] == {"@type": "Person", "name": "Maya Lind"}
    crumbs = next(b for b in data if b["@type"] == "BreadcrumbList")
    items = crumbs["itemListElement"]
    assert [i["item"] for i in items] == [
        f"{BASE}/",
        f"{BASE}/tags/strategy/",  # type: ignore[index]
        f"{BASE}/posts/why-pull-wins/",
    ]


def test_home_json_ld_has_a_website_with_a_search_action(client: FlaskClient) -> None:
    data = _json_ld(client.get("/").text)
    website = next(b for b in data if b["@type"] == "WebSite")
    action = website["potentialAction"]
    assert action["@type"] == "SearchAction"  # type: ignore[index]
    assert action["target"]["urlTemplate"] == f"{BASE}/search?q={{search_term_string}}"  # type: ignore[index]


def test_hostile_titles_cannot_break_out_of_the_json_ld(
    client: FlaskClient, content_dir: Path
) -> None:
    (content_dir / "posts" / "evil.md").write_text(post('"</script><script>alert(1)</script>"'))
    html = client.get("/posts/evil/").text
    assert "<script>alert(1)" not in html
    assert any(b.get("headline") == "</script><script>alert(1)</script>" for b in _json_ld(html))


def test_noindex_pages_carry_the_meta_tag_and_search_pages_are_noindex(
    client: FlaskClient,
) -> None:
    assert '<meta name="robots" content="noindex">' in client.get("/hidden-page/").text
    assert 'content="noindex"' not in client.get("/posts/ledger/").text
    # Only the first page of a query that finds something may be indexed, under one address.
    for empty in (
        "/search",
        "/search?q=zzqqxx",
        "/search?q=ledger&tag=consent",
        "/search?q=ledger&page=2",
    ):
        assert '<meta name="robots" content="noindex">' in client.get(empty).text, empty
    found = client.get("/search?q=%20Ledger%20%20").text
    assert 'content="noindex"' not in found
    assert '<link rel="canonical" href="http://localhost/search?q=ledger">' in found


def _parse(xml: bytes) -> ET.Element:
    return ET.fromstring(xml)  # noqa: S314 - the app's own output, parsed to prove it is XML


def _locs(xml: bytes) -> list[str]:
    root = _parse(xml)
    return [e.text or "" for e in root.iter(f"{{{feeds.SITEMAP}}}loc")]


def test_the_sitemap_lists_exactly_the_public_urls(client: FlaskClient) -> None:
    response = client.get("/sitemap.xml")
    assert response.mimetype == "application/xml"
    assert sorted(_locs(response.data)) == sorted(
        BASE + p
        for p in [
            "/",
            "/posts/why-pull-wins/",
            "/posts/ledger/",
            "/posts/quiet-hours/",
            "/about/",
            "/tags/",
            "/tags/strategy/",
            "/tags/permission-marketing/",
            "/tags/consent/",
            "/tags/messaging/",
            "/surveys/reader-2026/",
        ]
    )
    root = _parse(response.data)
    lastmods = {
        loc.text: url.find(f"{{{feeds.SITEMAP}}}lastmod")
        for url in root
        for loc in url.iter(f"{{{feeds.SITEMAP}}}loc")
    }
    assert lastmods[f"{BASE}/posts/ledger/"].text == "2026-02-01T00:00:00Z"  # type: ignore[union-attr]


def test_past_the_limit_the_sitemap_becomes_an_index(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feeds, "MAX_SITEMAP_URLS", 4)
    root = _parse(client.get("/sitemap.xml").data)
    assert root.tag == f"{{{feeds.SITEMAP}}}sitemapindex"
    parts = _locs(client.get("/sitemap.xml").data)
    assert parts == [f"{BASE}/sitemaps/{n}.xml" for n in (1, 2, 3)]
    urls = [u for n in (1, 2, 3) for u in _locs(client.get(f"/sitemaps/{n}.xml").data)]
    assert len(urls) == 11 and len(set(urls)) == 11
    assert client.get("/sitemaps/4.xml").status_code == 404


def test_robots_points_to_the_sitemap(client: FlaskClient) -> None:
    text = client.get("/robots.txt").text
    assert f"Sitemap: {BASE}/sitemap.xml" in text and "Disallow: /admin/" in text


@pytest.mark.parametrize(
    ("url", "entries"),
    [
        ("/feed.xml", ["Quiet hours", "Keep a consent ledger", "Why pull wins"]),
        ("/tags/strategy/feed.xml", ["Keep a consent ledger", "Why pull wins"]),
    ],
)
def test_atom_feeds_parse_as_xml_with_full_content(
    client: FlaskClient, url: str, entries: list[str]
) -> None:
    response = client.get(url)
    assert response.mimetype == "application/atom+xml"
    root = _parse(response.data)
    atom = "{http://www.w3.org/2005/Atom}"
    assert root.tag == f"{atom}feed"
    titles = [e.findtext(f"{atom}title") for e in root.findall(f"{atom}entry")]
    assert titles == entries
    content = root.find(f"{atom}entry/{atom}content")
    assert content is not None and content.get("type") == "html" and "<p>" in (content.text or "")
    self_link = root.find(f"{atom}link[@rel='self']")
    assert self_link is not None and self_link.get("href") == BASE + url


def test_unknown_tag_feed_is_404(client: FlaskClient) -> None:
    assert client.get("/tags/nothing/feed.xml").status_code == 404


def test_opengraph_cards_are_1200_by_630_and_cached_by_content(
    client: FlaskClient, app: object
) -> None:
    response = client.get("/og/ledger.png")
    assert response.mimetype == "image/png"
    with Image.open(io.BytesIO(response.data)) as image:
        assert image.size == (1200, 630)
    cached = list((Path(app.instance_path) / "og").glob("*.png"))  # type: ignore[attr-defined]
    assert len(cached) == 1
    client.get("/og/ledger.png")
    assert len(list((Path(app.instance_path) / "og").glob("*.png"))) == 1  # type: ignore[attr-defined]
    assert client.get("/og/draft-idea.png").status_code == 404
    assert client.get("/og/site.png").status_code == 200
