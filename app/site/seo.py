"""What search engines and link previews read: title, description, canonical URL, OpenGraph and
Twitter tags, and JSON-LD (Article, BreadcrumbList, WebSite with a SearchAction).

Views build one :class:`Seo` per page; ``site/_seo.html`` draws it in the ``<head>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.site.pages import Page
from app.site.settings import SiteSettings

OG_WIDTH, OG_HEIGHT = 1200, 630
MAX_DESCRIPTION = 160


@dataclass(frozen=True)
class Seo:
    title: str
    description: str
    canonical: str
    og_type: str = "website"
    image: str | None = None
    image_width: int | None = None
    image_height: int | None = None
    published: datetime | None = None
    modified: datetime | None = None
    tags: tuple[str, ...] = ()
    author: str | None = None
    noindex: bool = False
    json_ld: tuple[dict[str, Any], ...] = field(default=())


def absolute(base_url: str, path: str) -> str:
    if path.startswith(("http://", "https://")):
        return path
    return base_url.rstrip("/") + (path if path.startswith("/") else "/" + path)


def shorten(text: str, limit: int = MAX_DESCRIPTION) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > 0 else limit - 1].rstrip(",.;:") + "…"


def page_title(title: str, site: SiteSettings) -> str:
    return title if title == site.title else f"{title} · {site.title}"


def _organization(site: SiteSettings, base_url: str) -> dict[str, Any]:
    return {
        "@type": "Organization",
        "name": site.title,
        "url": absolute(base_url, "/"),
        "logo": {"@type": "ImageObject", "url": absolute(base_url, "/static/favicon.svg")},
    }


def breadcrumbs(base_url: str, trail: list[tuple[str, str]]) -> dict[str, Any]:
    """``trail`` is ``[(name, path), …]`` from the home page down to the current page."""
    return {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": i, "name": name, "item": absolute(base_url, path)}
            for i, (name, path) in enumerate(trail, start=1)
        ],
    }


def website(site: SiteSettings, base_url: str) -> dict[str, Any]:
    return {
        "@context": "https://schema.org",
        "@type": "WebSite",
        "name": site.title,
        "url": absolute(base_url, "/"),
        "description": site.description,
        "inLanguage": site.language,
        "potentialAction": {
            "@type": "SearchAction",
            "target": {
                "@type": "EntryPoint",
                "urlTemplate": absolute(base_url, "/search?q={search_term_string}"),
            },
            "query-input": "required name=search_term_string",
        },
    }


def article(page: Page, site: SiteSettings, base_url: str, image: str) -> dict[str, Any]:
    author = page.meta.author or site.author or site.title
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "BlogPosting" if page.kind == "post" else "Article",
        "headline": page.title,
        "description": page.description,
        "mainEntityOfPage": {"@type": "WebPage", "@id": absolute(base_url, page.url)},
        "url": absolute(base_url, page.url),
        "image": [image],
        "author": {"@type": "Person" if page.meta.author else "Organization", "name": author},
        "publisher": _organization(site, base_url),
        "inLanguage": site.language,
        "wordCount": page.words,
    }
    if page.published_at is not None:
        data["datePublished"] = page.published_at.isoformat()
    if page.modified_at is not None:
        data["dateModified"] = page.modified_at.isoformat()
    if page.tags:
        data["keywords"] = ", ".join(page.tags)
    return data


def for_page(
    page: Page, site: SiteSettings, base_url: str, image: tuple[str, int | None, int | None]
) -> Seo:
    """Tags for an article or a page. ``image`` is (URL, width, height)."""
    url, width, height = image
    trail = [("Home", "/")]
    if page.kind == "post" and page.tags:
        from app.site.meta import tag_slug

        trail.append((page.tags[0], f"/tags/{tag_slug(page.tags[0])}/"))
    trail.append((page.title, page.url))
    image_url = absolute(base_url, url)
    return Seo(
        title=page_title(page.title, site),
        description=shorten(page.description or site.description),
        canonical=absolute(base_url, page.url),
        og_type="article" if page.kind == "post" else "website",
        image=image_url,
        image_width=width,
        image_height=height,
        published=page.published_at if page.kind == "post" else None,
        modified=page.modified_at if page.kind == "post" else None,
        tags=page.tags,
        author=page.meta.author or site.author or None,
        noindex=page.meta.noindex,
        json_ld=(article(page, site, base_url, image_url), breadcrumbs(base_url, trail)),
    )


def for_listing(
    title: str,
    description: str,
    path: str,
    site: SiteSettings,
    base_url: str,
    trail: list[tuple[str, str]] | None = None,
    noindex: bool = False,
    home: bool = False,
) -> Seo:
    data: list[dict[str, Any]] = []
    if home:
        data.append(website(site, base_url))
    if trail:
        data.append(breadcrumbs(base_url, trail))
    return Seo(
        title=page_title(title, site),
        description=shorten(description),
        canonical=absolute(base_url, path),
        noindex=noindex,
        image=absolute(base_url, "/og/site.png"),
        image_width=OG_WIDTH,
        image_height=OG_HEIGHT,
        json_ld=tuple(data),
    )
