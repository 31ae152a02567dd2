"""Journey 1, read: a visitor finds an article through site search, opens it, follows one of
its tags, and reads the tag's Atom feed (and the site's), found through the pages' own links."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from playwright.sync_api import Page, expect

from tests.browser import LiveServer, csp_violations
from tests.e2e.steps import snapshot

ATOM = "{http://www.w3.org/2005/Atom}"
TITLE = "Silence means stop, not send more"
SLUG = "silence-means-stop"


def _feed_entries(page: Page, url: str) -> dict[str, ET.Element]:
    """The entries of the Atom feed at ``url``, by title, fetched in the browser's context."""
    response = page.request.get(url)
    assert response.status == 200, url
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.body())  # noqa: S314 - the app's own feed
    assert feed.tag == f"{ATOM}feed"
    return {entry.findtext(f"{ATOM}title", ""): entry for entry in feed.iter(f"{ATOM}entry")}


def test_find_an_article_by_search_follow_a_tag_and_read_the_feed(
    page: Page, live_server: LiveServer
) -> None:
    page.goto("/")
    page.get_by_role("searchbox", name="Search articles").fill("silence stop")
    page.get_by_role("search").get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/search\?q=silence\+stop"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Search")
    results = page.locator("ol.search-hits")
    expect(results.get_by_role("link", name=TITLE, exact=True)).to_be_visible()
    snapshot(page, "read-1-search")

    results.get_by_role("link", name=TITLE, exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/posts/{SLUG}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.locator(".prose")).to_contain_text("What silence tells you")

    topics = page.locator("footer.article-tags")
    topics.get_by_role("link", name="Consent", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/tags/consent/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Consent")
    expect(page.get_by_role("main").get_by_role("link", name=TITLE, exact=True)).to_be_visible()
    snapshot(page, "read-2-tag")

    # The feed a reader subscribes to: the tag page's own link, then the site's.
    tag_feed = page.get_by_role("link", name="Atom feed").get_attribute("href")
    assert tag_feed == "/tags/consent/feed.xml"
    assert page.locator('head link[rel="alternate"][href="/tags/consent/feed.xml"]').count() == 1
    assert page.locator('head link[rel="alternate"][href="/feed.xml"]').count() == 1
    for url in (tag_feed, "/feed.xml"):
        entries = _feed_entries(page, url)
        assert TITLE in entries, (url, sorted(entries))
        entry = entries[TITLE]
        link = entry.find(f"{ATOM}link[@rel='alternate']")
        assert link is not None and link.get("href") == f"{live_server.url}/posts/{SLUG}/"
        assert "Consent" in [c.get("term") for c in entry.iter(f"{ATOM}category")]
        assert "What silence tells you" in entry.findtext(f"{ATOM}content", "")

    # Back to the article the feed points to, as a feed reader's click would.
    page.goto(f"/posts/{SLUG}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    assert csp_violations(page) == []
