"""Pages and posts as the rest of the app sees them, and what is public at a given moment.

A :class:`Page` is one Markdown file under ``content/posts`` (a post) or ``content/pages`` (a
page) with valid front matter. Its rendered body is not held here: ask
``library().rendered(page)``. A :class:`PublicView` is everything the public may see at one
moment; it stays valid until the next ``publish_at`` or ``expires_at`` passes.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from app.site.meta import PageMeta, tag_slug
from app.site.rendering import WORDS_PER_MINUTE

RELATED_COUNT = 3
_SERIALS = itertools.count(1)


@dataclass(frozen=True)
class Page:
    kind: str  # "post" or "page"
    file: str  # the file's path (see ``path``)
    hash: str
    words: int
    body_line: int
    meta: PageMeta

    @property
    def path(self) -> Path:
        return Path(self.file)

    @property
    def slug(self) -> str:
        return self.meta.slug

    @property
    def title(self) -> str:
        return self.meta.title

    @property
    def description(self) -> str:
        return self.meta.description

    @property
    def tags(self) -> tuple[str, ...]:
        return self.meta.tags

    @property
    def cta(self) -> str | None:
        return self.meta.cta

    @property
    def url(self) -> str:
        return f"/posts/{self.slug}/" if self.kind == "post" else f"/{self.slug}/"

    @property
    def published_at(self) -> datetime | None:
        """When the page goes (or went) public: ``publish_at``, else ``date``."""
        return self.meta.publish_at or self.meta.date

    @property
    def modified_at(self) -> datetime | None:
        return self.meta.updated or self.published_at

    @property
    def reading_minutes(self) -> int:
        return max(1, -(-self.words // WORDS_PER_MINUTE))

    def is_public(self, now: datetime) -> bool:
        """Not a draft, past its publication time and not expired."""
        if self.meta.draft:
            return False
        published = self.published_at
        if published is not None and published > now:
            return False
        return self.meta.expires_at is None or now < self.meta.expires_at

    def why_hidden(self, now: datetime) -> str | None:
        """None when public, else what an editor is told on the preview."""
        if self.meta.draft:
            return "This is a draft."
        published = self.published_at
        if published is not None and published > now:
            return f"Scheduled for {published:%Y-%m-%d %H:%M} UTC."
        if self.meta.expires_at is not None and now >= self.meta.expires_at:
            return f"Expired on {self.meta.expires_at:%Y-%m-%d %H:%M} UTC."
        return None


@dataclass(frozen=True)
class Survey:
    """A survey file, as far as search needs it (the survey pages belong to another area)."""

    slug: str
    file: str
    hash: str
    title: str
    description: str
    questions: tuple[str, ...]
    draft: bool = False

    @property
    def path(self) -> Path:
        return Path(self.file)

    @property
    def url(self) -> str:
        return f"/surveys/{self.slug}/"


@dataclass(frozen=True)
class Tag:
    slug: str
    name: str
    posts: tuple[Page, ...]


def _boundaries(pages: Iterable[Page], now: datetime) -> datetime | None:
    future = [moment for page in pages
              for moment in (page.published_at, page.meta.expires_at)
              if moment is not None and moment > now]
    return min(future) if future else None


@dataclass
class PublicView:
    """What the public sees at ``now``; ``valid_until`` is the next scheduled change."""

    posts: tuple[Page, ...]
    pages: dict[str, Page]
    tags: dict[str, Tag]
    valid_until: datetime | None
    serial: int = 0  # distinct for every view built in this process
    _posts_by_slug: dict[str, Page] = field(default_factory=dict)
    _related: dict[str, tuple[Page, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, posts: Iterable[Page], pages: Iterable[Page], now: datetime) -> PublicView:
        all_posts, all_pages = list(posts), list(pages)
        public = sorted((p for p in all_posts if p.is_public(now)),
                        key=lambda p: (p.published_at or now, p.slug), reverse=True)
        grouped: dict[str, list[Page]] = {}
        names: dict[str, str] = {}
        for post in public:
            for name in post.tags:
                slug = tag_slug(name)
                grouped.setdefault(slug, []).append(post)
                names.setdefault(slug, name)
        tags = {slug: Tag(slug, names[slug], tuple(items))
                for slug, items in sorted(grouped.items())}
        return cls(
            posts=tuple(public),
            pages={p.slug: p for p in all_pages if p.is_public(now)},
            tags=tags,
            valid_until=_boundaries(all_posts + all_pages, now),
            serial=next(_SERIALS),
            _posts_by_slug={p.slug: p for p in public},
        )

    def post(self, slug: str) -> Page | None:
        return self._posts_by_slug.get(slug)

    def related(self, page: Page) -> tuple[Page, ...]:
        """Up to three public posts sharing the most tags with ``page``, newest first."""
        cached = self._related.get(page.slug)
        if cached is not None:
            return cached
        scores: dict[str, int] = {}
        for name in page.tags:
            tag = self.tags.get(tag_slug(name))
            for other in tag.posts if tag is not None else ():
                if other.slug != page.slug:
                    scores[other.slug] = scores.get(other.slug, 0) + 1
        order = {p.slug: i for i, p in enumerate(self.posts)} if scores else {}
        best = sorted(scores, key=lambda slug: (-scores[slug], order[slug]))[:RELATED_COUNT]
        found = tuple(self._posts_by_slug[slug] for slug in best)
        self._related[page.slug] = found
        return found


class PublicCache:
    """Keeps the last :class:`PublicView` while it is valid."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._view: PublicView | None = None
        self._built_at: datetime | None = None

    def get(self, posts: Iterable[Page], pages: Iterable[Page], now: datetime) -> PublicView:
        view, built = self._view, self._built_at
        if view is not None and built is not None and built <= now and (
            view.valid_until is None or now < view.valid_until
        ):
            return view
        with self._lock:
            view = PublicView.build(posts, pages, now)
            self._view, self._built_at = view, now
            return view
