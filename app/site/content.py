"""What other areas (and the site's own views) ask about content. Plain values in and out.

- :func:`public_posts` — the posts the public may read at ``now``, newest first, with their front
  matter and publication time (a later area turns a post with ``notify`` into a campaign);
- :func:`get_post` / :func:`get_page` — one post or page by slug, whatever its state;
- :func:`rendered` — the sanitized body of a page;
- :func:`current` — the snapshot of the whole folder (problems included).

Every call works inside an app context; the folder is re-checked at most once per
``CONTENT_RECHECK_SECONDS``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from app.registry import Slot
from app.site.library import LIBRARY, Library, Snapshot
from app.site.pages import Page, PublicView, Survey
from app.site.rendering import Rendered
from app.site.settings import SITE_SETTINGS

SEARCH_SYNC = Slot[Callable[[Snapshot, PublicView], None]](
    "search_sync",
    "what keeps the search index in step with what the public sees",
    set_by="app.site.wiring.init_app",
)


def library() -> Library:
    return LIBRARY.get()


def current() -> Snapshot:
    return library().current()


def public(now: datetime) -> PublicView:
    """What the public sees at ``now``; keeps the search index in step as a side effect."""
    snapshot = current()
    view = snapshot.public(now)
    sync = SEARCH_SYNC.find()
    if sync is not None:
        sync(snapshot, view)
    return view


def version(now: datetime) -> tuple[int, int, tuple[int, int] | None]:
    """Changes whenever what the public sees may change: the folder, the schedule, site.toml."""
    snapshot = current()
    settings = SITE_SETTINGS.get()
    settings.get()
    return snapshot.generation, snapshot.public(now).serial, settings.version


def public_posts(now: datetime) -> list[Page]:
    return list(public(now).posts)


def get_post(slug: str) -> Page | None:
    return current().posts.get(slug)


def get_page(slug: str) -> Page | None:
    return current().pages.get(slug)


def get_survey(slug: str) -> Survey | None:
    return current().surveys.get(slug)


def rendered(page: Page | Survey) -> Rendered:
    return library().rendered(page)
