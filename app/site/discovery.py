"""What machines read: ``/robots.txt``, ``/sitemap.xml`` (an index past 50,000 URLs), the Atom
feeds and the OpenGraph cards. Routes on the site blueprint, imported by the wiring."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask import abort, current_app
from werkzeug.wrappers import Response

from app import clock
from app.site import content, feeds, ogimage
from app.site.httpcache import cacheable
from app.site.pages import Page, PublicView
from app.site.settings import current_settings as site_settings
from app.site.views import base_url


def sitemap_entries(view: PublicView) -> list[feeds.SitemapEntry]:
    """Every public URL meant for search engines: ``noindex`` pages are left out."""
    entries = [feeds.SitemapEntry("/", view.modified_at)]
    entries += [feeds.SitemapEntry(p.url, p.modified_at) for p in view.posts if not p.meta.noindex]
    entries += [
        feeds.SitemapEntry(p.url, p.modified_at)
        for p in sorted(view.pages.values(), key=lambda p: p.slug)
        if not p.meta.noindex
    ]
    if view.tags:
        entries.append(feeds.SitemapEntry("/tags/", view.modified_at))
        entries += [
            feeds.SitemapEntry(f"/tags/{t.slug}/", t.modified_at) for t in view.tags.values()
        ]
    entries += [
        feeds.SitemapEntry(s.url, None)
        for s in sorted(content.current().surveys.values(), key=lambda s: s.slug)
        if not s.draft
    ]
    return entries


def robots() -> Response:
    lines = [
        "User-agent: *",
        "Allow: /",
        "Disallow: /admin/",
        "Disallow: /me/",
        f"Sitemap: {base_url()}/sitemap.xml",
        "",
    ]
    return cacheable("\n".join(lines), "text/plain")


def sitemap() -> Response:
    view = content.public(clock.now())
    entries = sitemap_entries(view)
    if len(entries) <= feeds.MAX_SITEMAP_URLS:
        body = feeds.urlset(entries, base_url())
    else:
        body = feeds.sitemap_index(entries, base_url(), lambda n: f"/sitemaps/{n}.xml")
    return cacheable(body, "application/xml", view.modified_at)


def sitemap_part(part: str) -> Response:
    view = content.public(clock.now())
    entries = sitemap_entries(view)
    number = int(part) if part.isascii() and part.isdigit() and len(part) < 6 else 0
    if len(entries) <= feeds.MAX_SITEMAP_URLS or not 1 <= number <= feeds.sitemap_pages(entries):
        abort(404)
    return cacheable(
        feeds.urlset(feeds.sitemap_part(entries, number), base_url()),
        "application/xml",
        view.modified_at,
    )


def _feed(
    posts: tuple[Page, ...],
    modified_at: datetime | None,
    title: str,
    feed_path: str,
    page_path: str,
) -> Response:
    site = site_settings()
    body = feeds.atom_feed(
        title=title,
        subtitle=site.description,
        base_url=base_url(),
        feed_path=feed_path,
        page_path=page_path,
        posts=posts,
        author=site.author or site.title,
        html_of=lambda post: content.rendered(post).html,
        updated=clock.now(),
    )
    return cacheable(body, "application/atom+xml", modified_at)


def feed() -> Response:
    view = content.public(clock.now())
    return _feed(view.posts, view.modified_at, site_settings().title, "/feed.xml", "/")


def tag_feed(tag: str) -> Response:
    found = content.public(clock.now()).tags.get(tag)
    if found is None:
        abort(404)
    return _feed(
        found.posts,
        found.modified_at,
        f"{found.name} · {site_settings().title}",
        f"/tags/{tag}/feed.xml",
        f"/tags/{tag}/",
    )


def og_card(slug: str) -> Response:
    """The OpenGraph card of a public post (or of the site, for ``site``)."""
    folder = Path(current_app.instance_path) / "og"
    site = site_settings()
    if slug == "site":
        data = ogimage.cached_card(folder, site.description or site.title, site.title, None, "site")
        return cacheable(data, "image/png")
    page = content.get_post(slug) or content.get_page(slug)
    if page is None or not page.is_public(clock.now()):
        abort(404)
    label = page.tags[0] if page.tags else None
    data = ogimage.cached_card(folder, page.title, site.title, label, page.hash)
    return cacheable(data, "image/png", page.modified_at)
