"""Atom feeds and sitemaps, as XML bytes built with ElementTree (so every value is escaped).

A sitemap holds at most :data:`MAX_SITEMAP_URLS` URLs; past that, ``/sitemap.xml`` is a sitemap
index of ``/sitemaps/<n>.xml`` files.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from app.site.pages import Page
from app.site.seo import absolute

ATOM = "http://www.w3.org/2005/Atom"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
MAX_SITEMAP_URLS = 50_000
FEED_ENTRIES = 20


@dataclass(frozen=True)
class SitemapEntry:
    path: str
    lastmod: datetime | None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _xml(root: ET.Element) -> bytes:
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def atom_feed(
    *,
    title: str,
    subtitle: str,
    base_url: str,
    feed_path: str,
    page_path: str,
    posts: Sequence[Page],
    author: str,
    html_of: Callable[[Page], str],
    updated: datetime,
) -> bytes:
    """An Atom 1.0 feed of ``posts`` (newest first) with their full sanitized HTML."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}title").text = title
    if subtitle:
        ET.SubElement(feed, f"{{{ATOM}}}subtitle").text = subtitle
    ET.SubElement(feed, f"{{{ATOM}}}id").text = absolute(base_url, feed_path)
    ET.SubElement(
        feed,
        f"{{{ATOM}}}link",
        rel="self",
        type="application/atom+xml",
        href=absolute(base_url, feed_path),
    )
    ET.SubElement(
        feed,
        f"{{{ATOM}}}link",
        rel="alternate",
        type="text/html",
        href=absolute(base_url, page_path),
    )
    newest = max((p.modified_at for p in posts[:FEED_ENTRIES] if p.modified_at), default=None)
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = _iso(newest or updated)
    ET.SubElement(ET.SubElement(feed, f"{{{ATOM}}}author"), f"{{{ATOM}}}name").text = author
    for post in posts[:FEED_ENTRIES]:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        url = absolute(base_url, post.url)
        ET.SubElement(entry, f"{{{ATOM}}}title").text = post.title
        ET.SubElement(entry, f"{{{ATOM}}}id").text = url
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=url)
        ET.SubElement(entry, f"{{{ATOM}}}published").text = _iso(post.published_at or updated)
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = _iso(post.modified_at or updated)
        if post.meta.author:
            name = ET.SubElement(ET.SubElement(entry, f"{{{ATOM}}}author"), f"{{{ATOM}}}name")
            name.text = post.meta.author
        for tag in post.tags:
            ET.SubElement(entry, f"{{{ATOM}}}category", term=tag)
        if post.description:
            ET.SubElement(entry, f"{{{ATOM}}}summary").text = post.description
        content = ET.SubElement(entry, f"{{{ATOM}}}content", type="html")
        content.text = _absolute_links(html_of(post), base_url)
    return _xml(feed)


def _absolute_links(markup: str, base_url: str) -> str:
    """Feed readers resolve relative links badly: make this site's paths absolute."""
    root = base_url.rstrip("/")
    return markup.replace('href="/', f'href="{root}/').replace('src="/', f'src="{root}/')


def sitemap_pages(entries: Sequence[SitemapEntry]) -> int:
    return max(1, -(-len(entries) // MAX_SITEMAP_URLS))


def urlset(entries: Sequence[SitemapEntry], base_url: str) -> bytes:
    ET.register_namespace("", SITEMAP)
    root = ET.Element(f"{{{SITEMAP}}}urlset")
    for item in entries:
        url = ET.SubElement(root, f"{{{SITEMAP}}}url")
        ET.SubElement(url, f"{{{SITEMAP}}}loc").text = absolute(base_url, item.path)
        if item.lastmod is not None:
            ET.SubElement(url, f"{{{SITEMAP}}}lastmod").text = _iso(item.lastmod)
    return _xml(root)


def sitemap_index(
    entries: Sequence[SitemapEntry], base_url: str, part_path: Callable[[int], str]
) -> bytes:
    ET.register_namespace("", SITEMAP)
    root = ET.Element(f"{{{SITEMAP}}}sitemapindex")
    for number in range(1, sitemap_pages(entries) + 1):
        chunk = entries[(number - 1) * MAX_SITEMAP_URLS : number * MAX_SITEMAP_URLS]
        item = ET.SubElement(root, f"{{{SITEMAP}}}sitemap")
        ET.SubElement(item, f"{{{SITEMAP}}}loc").text = absolute(base_url, part_path(number))
        newest = max((e.lastmod for e in chunk if e.lastmod), default=None)
        if newest is not None:
            ET.SubElement(item, f"{{{SITEMAP}}}lastmod").text = _iso(newest)
    return _xml(root)


def sitemap_part(entries: Sequence[SitemapEntry], number: int) -> Sequence[SitemapEntry]:
    return entries[(number - 1) * MAX_SITEMAP_URLS : number * MAX_SITEMAP_URLS]
