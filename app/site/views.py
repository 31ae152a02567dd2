"""The pull side's pages: home, articles, pages, tags, search, aliases and content images.

Views parse the request, ask :mod:`app.site.content` and :mod:`app.site.search`, and render.
Anonymous visits never touch the session, so :mod:`app.site.httpcache` can mark them public.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from flask import (
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
)
from flask_login import current_user
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.wrappers import Response

from app import clock, events
from app.site import content, seo
from app.site.events import ArticleRead
from app.site.httpcache import cacheable, immutable, private
from app.site.images import IMAGES
from app.site.meta import normalize_path, tag_slug
from app.site.pages import Page, PublicView
from app.site.search import search as run_search
from app.site.settings import current_settings as site_settings

READ_KEY = "site.read"
READ_MEMORY = 200


def base_url() -> str:
    return str(current_app.config["BASE_URL"])


def _page_number() -> int:
    raw = request.args.get("page", "1")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 10_000:
        abort(404)
    return int(raw)


def _paginate(items: tuple[Page, ...], number: int) -> tuple[tuple[Page, ...], int]:
    per_page = current_app.config["POSTS_PER_PAGE"]
    pages = max(1, -(-len(items) // per_page))
    if number > pages:
        abort(404)
    return items[(number - 1) * per_page : number * per_page], pages


def og_image(page: Page) -> tuple[str, int | None, int | None]:
    if page.meta.image:
        size = IMAGES.get()(page.meta.image)
        return page.meta.image, size.width if size else None, size.height if size else None
    return f"/og/{page.slug}.png", seo.OG_WIDTH, seo.OG_HEIGHT


def home() -> Response:
    view = content.public(clock.now())
    number = _page_number()
    posts, pages = _paginate(view.posts, number)
    site = site_settings()
    path = "/" if number == 1 else f"/?page={number}"
    tags = view.by_count[:12]
    html = render_template(
        "site/home.html",
        posts=posts,
        number=number,
        pages=pages,
        tags=tags,
        calls=site.extra.get("home_cta") or [],
        seo=seo.for_listing(
            site.title if number == 1 else f"Articles, page {number}",
            site.description,
            path,
            site,
            base_url(),
            home=number == 1,
        ),
    )
    return cacheable(html, last_modified=view.modified_at)


def _remember_read(page: Page, at: datetime) -> None:
    """Tell the areas above that a member read ``page``, once per article per session."""
    if not current_user.is_authenticated:
        return
    read = list(session.get(READ_KEY, []))
    if page.slug in read:
        return
    session[READ_KEY] = [*read, page.slug][-READ_MEMORY:]
    events.emit(ArticleRead(member_id=current_user.id, slug=page.slug, at=at))


def _alias_or_404() -> Response:
    """Old URLs listed in a page's ``aliases`` answer with a 301 to its current URL."""
    snapshot = content.current()
    target = snapshot.aliases.get(normalize_path(request.path))
    found = next((p for p in snapshot.all_pages if p.url == target), None) if target else None
    if found is None or not found.is_public(clock.now()):
        abort(404)
    return redirect(found.url, 301)


def _show(page: Page | None, view: PublicView, template: str) -> Response:
    now = clock.now()
    if page is None:
        return _alias_or_404()
    hidden = page.why_hidden(now)
    if hidden is not None and not (
        current_user.is_authenticated and current_user.has_role("editor")
    ):
        abort(404)
    site = site_settings()
    body = content.rendered(page)
    html = render_template(
        template,
        page=page,
        body=body,
        hidden=hidden,
        related=view.related(page) if page.kind == "post" and hidden is None else (),
        seo=seo.for_page(page, site, base_url(), og_image(page)),
    )
    if hidden is not None:
        return private(current_app.make_response(html))
    response = cacheable(html, last_modified=page.modified_at)
    if page.kind == "post":
        _remember_read(page, now)
    return response


def article(slug: str) -> Response:
    view = content.public(clock.now())
    return _show(content.get_post(slug), view, "site/article.html")


def _refuse_other_methods(path: str) -> None:
    """``/signout`` (POST only) must answer GET with 405, not with the page rule's slash
    redirect: the page rule is declared without strict slashes and checks here instead."""
    adapter = current_app.url_map.bind("localhost")
    allowed = set()
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        try:
            endpoint, _ = adapter.match(path, method=method)
        except HTTPException:
            continue
        if endpoint not in {"site.page", "site.alias"}:
            allowed.add(method)
    if allowed:
        raise MethodNotAllowed(valid_methods=sorted(allowed))


def page(slug: str) -> Response:
    if not request.path.endswith("/"):
        _refuse_other_methods(request.path)
        if content.get_page(slug) is not None:
            return redirect(f"/{slug}/", 308)
        return _alias_or_404()
    view = content.public(clock.now())
    return _show(content.get_page(slug), view, "site/page.html")


def tags() -> Response:
    view = content.public(clock.now())
    site = site_settings()
    html = render_template(
        "site/tags.html",
        tags=view.by_name,
        seo=seo.for_listing(
            "Topics",
            f"Every topic on {site.title}, with its articles.",
            "/tags/",
            site,
            base_url(),
            trail=[("Home", "/"), ("Topics", "/tags/")],
        ),
    )
    return cacheable(html, last_modified=view.modified_at)


def tag(tag: str) -> Response:
    view = content.public(clock.now())
    found = view.tags.get(tag)
    if found is None:
        if tag_slug(tag) in view.tags:
            return redirect(f"/tags/{tag_slug(tag)}/", 301)
        abort(404)
    number = _page_number()
    posts, pages = _paginate(found.posts, number)
    site = site_settings()
    path = f"/tags/{found.slug}/" + ("" if number == 1 else f"?page={number}")
    html = render_template(
        "site/tag.html",
        tag=found,
        posts=posts,
        number=number,
        pages=pages,
        seo=seo.for_listing(
            f"Articles about {found.name}",
            f"{len(found.posts)} articles about {found.name} on {site.title}.",
            path,
            site,
            base_url(),
            trail=[("Home", "/"), ("Topics", "/tags/"), (found.name, f"/tags/{found.slug}/")],
        ),
    )
    return cacheable(html, last_modified=found.modified_at)


def search() -> Response:
    content.public(clock.now())  # keeps the index in step with the folder
    query = request.args.get("q", "")
    tag = request.args.get("tag") or None
    raw_page = request.args.get("page", "1")
    number = (
        int(raw_page)
        if raw_page.isascii() and raw_page.isdigit() and 0 < int(raw_page) <= 100
        else 1
    )
    results = run_search(query, number, tag) if query.strip() else None
    site = site_settings()
    title = f"Search: {query.strip()[:60]}" if query.strip() else "Search"
    # The first page of results for a query that finds something may be indexed, under one
    # canonical address per query; empty, filtered and later pages stay out of the index.
    normal = " ".join(query.lower().split())[:100]
    indexable = results is not None and results.total > 0 and tag is None and number == 1
    path = f"/search?{urlencode({'q': normal})}" if indexable else "/search"
    html = render_template(
        "site/search.html",
        results=results,
        search_query=query,
        tag=tag,
        seo=seo.for_listing(
            title,
            f"Search the articles, pages and surveys of {site.title}.",
            path,
            site,
            base_url(),
            noindex=not indexable,
        ),
    )
    return cacheable(html)


def image(filename: str) -> Response:
    folder = Path(current_app.config["CONTENT_DIR"]) / "images"
    response = send_from_directory(folder, filename, conditional=True)
    return immutable(response)


def alias(path: str) -> Response:
    return _alias_or_404()
