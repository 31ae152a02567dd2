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
from app.web.times import local_time, reader_zone

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
            return f"Scheduled for {local_time(published, reader_zone())}."
        if self.meta.expires_at is not None and now >= self.meta.expires_at:
            return f"Expired on {local_time(self.meta.expires_at, reader_zone())}."
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
    modified_at: datetime | None = None  # the newest ``modified_at`` among ``posts``


def _boundaries(pages: Iterable[Page], now: datetime) -> datetime | None:
    future = [
        moment
        for page in pages
        for moment in (page.published_at, page.meta.expires_at)
        if moment is not None and moment > now
    ]
    return min(future) if future else None


def newest(items: Iterable[Page]) -> datetime | None:
    return max((p.modified_at for p in items if p.modified_at), default=None)


def _bits(positions: list[int], size: int) -> int:
    """An int with bit ``i`` set for each ``i`` in ``positions`` (built in one pass)."""
    bitmap = bytearray(size // 8 + 1)
    for i in positions:
        bitmap[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(bitmap, "little")


def _add(planes: list[int], mask: int) -> None:
    """Add 1 to the counter of every bit set in ``mask``: ``planes[j]`` holds bit ``j`` of
    each post's count, so many posts are counted with a few big-int operations."""
    carry = mask
    for j, plane in enumerate(planes):
        planes[j], carry = plane ^ carry, plane & carry
        if not carry:
            return
    planes.append(carry)


def _exactly(planes: list[int], score: int) -> int:
    """The posts whose count in ``planes`` is exactly ``score`` (> 0)."""
    ones = [plane for j, plane in enumerate(planes) if score >> j & 1]
    found = ones[0]
    for plane in ones[1:]:
        found &= plane
    for j, plane in enumerate(planes):
        if not score >> j & 1:
            found &= ~plane
    return found


@dataclass
class PublicView:
    """What the public sees at ``now``; ``valid_until`` is the next scheduled change.

    Built once per content generation (and schedule change) with what every page asks for:
    tags with their posts and newest date, and, per tag, a bitmap of the posts' positions, from
    which :meth:`related` counts shared tags for all posts at once instead of one by one.
    """

    posts: tuple[Page, ...]
    pages: dict[str, Page]
    tags: dict[str, Tag]
    valid_until: datetime | None
    serial: int = 0  # distinct for every view built in this process
    modified_at: datetime | None = None  # the newest ``modified_at`` among ``posts``
    by_count: tuple[Tag, ...] = ()  # most posts first, then by name
    by_name: tuple[Tag, ...] = ()
    _posts_by_slug: dict[str, Page] = field(default_factory=dict)
    _positions: dict[str, int] = field(default_factory=dict)
    # tag slug -> bitmaps of positions: [0] posts tagged once, [1] twice (names differing
    # only in case or spacing), ...
    _tag_bits: dict[str, tuple[int, ...]] = field(default_factory=dict)
    _related: dict[str, tuple[Page, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, posts: Iterable[Page], pages: Iterable[Page], now: datetime) -> PublicView:
        all_posts, all_pages = list(posts), list(pages)
        public = sorted(
            (p for p in all_posts if p.is_public(now)),
            key=lambda p: (p.published_at or now, p.slug),
            reverse=True,
        )
        grouped: dict[str, list[Page]] = {}
        names: dict[str, str] = {}
        positions: dict[str, list[list[int]]] = {}
        newest_of: dict[str, datetime] = {}
        modified_at: datetime | None = None
        for i, post in enumerate(public):
            modified = post.modified_at
            if modified is not None and (modified_at is None or modified > modified_at):
                modified_at = modified
            seen: dict[str, int] = {}
            for name in post.tags:
                slug = tag_slug(name)
                grouped.setdefault(slug, []).append(post)
                names.setdefault(slug, name)
                times = seen[slug] = seen.get(slug, 0) + 1
                found = positions.setdefault(slug, [])
                if len(found) < times:
                    found.append([])
                found[times - 1].append(i)
                if modified is not None and (slug not in newest_of or modified > newest_of[slug]):
                    newest_of[slug] = modified
        tags = {
            slug: Tag(slug, names[slug], tuple(items), newest_of.get(slug))
            for slug, items in sorted(grouped.items())
        }
        return cls(
            posts=tuple(public),
            pages={p.slug: p for p in all_pages if p.is_public(now)},
            tags=tags,
            valid_until=_boundaries(all_posts + all_pages, now),
            serial=next(_SERIALS),
            modified_at=modified_at,
            by_count=tuple(sorted(tags.values(), key=lambda t: (-len(t.posts), t.name.lower()))),
            by_name=tuple(sorted(tags.values(), key=lambda t: t.name.lower())),
            _posts_by_slug={p.slug: p for p in public},
            _positions={p.slug: i for i, p in enumerate(public)},
            _tag_bits={
                slug: tuple(_bits(group, len(public)) for group in groups)
                for slug, groups in positions.items()
            },
        )

    def post(self, slug: str) -> Page | None:
        return self._posts_by_slug.get(slug)

    def related(self, page: Page) -> tuple[Page, ...]:
        """Up to three other public posts sharing the most tags with ``page``; among posts
        sharing as many, the newest first (the order of ``posts``)."""
        cached = self._related.get(page.slug)
        if cached is not None:
            return cached
        planes: list[int] = []  # bit j of each post's count of shared tags
        for name in page.tags:
            for mask in self._tag_bits.get(tag_slug(name), ()):
                _add(planes, mask)
        own = self._positions.get(page.slug)
        if own is not None:
            planes = [plane & ~(1 << own) for plane in planes]
        found: list[Page] = []
        for score in range((1 << len(planes)) - 1, 0, -1):
            candidates = _exactly(planes, score)
            while candidates and len(found) < RELATED_COUNT:
                lowest = candidates & -candidates
                found.append(self.posts[lowest.bit_length() - 1])
                candidates ^= lowest
            if len(found) == RELATED_COUNT:
                break
        self._related[page.slug] = result = tuple(found)
        return result


class PublicCache:
    """Keeps the last :class:`PublicView` while it is valid."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._view: PublicView | None = None
        self._built_at: datetime | None = None

    def get(self, posts: Iterable[Page], pages: Iterable[Page], now: datetime) -> PublicView:
        view, built = self._view, self._built_at
        if (
            view is not None
            and built is not None
            and built <= now
            and (view.valid_until is None or now < view.valid_until)
        ):
            return view
        with self._lock:
            view = PublicView.build(posts, pages, now)
            self._view, self._built_at = view, now
            return view
