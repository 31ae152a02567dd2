"""The content folder in memory: every post, page and survey, kept current by cheap stat checks.

:meth:`Library.current` returns the latest :class:`Snapshot`. At most once every
``CONTENT_RECHECK_SECONDS`` it asks whether the folders may have changed (on Linux the kernel
says so, see :mod:`app.site.watch`) and if so stats the Markdown files (one ``stat`` each, no
read); only files whose size or modification time changed are read, and only files whose bytes
hash to something the render cache does not hold are rendered. A start-up where nothing changed
reads no file.

A file that cannot be used is skipped and logged with its path and line; every other page keeps
working.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from app.registry import Slot
from app.site.budget import DEFAULT_SECONDS
from app.site.cache import FileStamp, RenderCache, SourceEntry, content_hash
from app.site.checks import ContentProblem
from app.site.errors import OverBudget, SourceOverBudget
from app.site.frontmatter import MAX_FILE_BYTES, SourceError, parse_source
from app.site.meta import FieldError, default_slug, normalize_path, validate
from app.site.pages import Page, PublicCache, PublicView, Survey
from app.site.rendering import ImageLookup, Rendered, render_markdown
from app.site.watch import FolderWatch

log = logging.getLogger("pullfirst.site")

FOLDERS = (("posts", "post"), ("pages", "page"), ("surveys", "survey"))
RENDER_MEMORY = 256  # rendered bodies kept in memory per process


def is_content_file(name: str) -> bool:
    return name.endswith(".md") and not name.startswith((".", "#", "~"))


def scan(content_dir: Path) -> dict[str, tuple[int, int, str]]:
    """``path → (mtime_ns, size, kind)`` for every Markdown file, one stat each (no read)."""
    found: dict[str, tuple[int, int, str]] = {}
    for folder, kind in FOLDERS:
        try:
            entries = list(os.scandir(content_dir / folder))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            if not is_content_file(entry.name):
                continue
            try:
                stat = entry.stat()
            except FileNotFoundError:
                continue
            found[entry.path] = (stat.st_mtime_ns, stat.st_size, kind)
    return found


def read_and_render(
    path: Path,
    raw: bytes,
    images: ImageLookup | None,
    seconds: float = DEFAULT_SECONDS,
    locate: Callable[[str], int] | None = None,
) -> tuple[SourceEntry, Rendered | None]:
    """What the cache keeps for one file's bytes. Never raises for a bad file: a body over
    the render budget is a problem at its line (``locate(body)``, when given, finds the line
    of a body that was only too slow)."""
    try:
        source = parse_source(path, raw)
    except SourceError as exc:
        return SourceEntry(None, 1, 0, (exc.line, exc.message)), None
    meta = json.loads(json.dumps(source.meta, default=str))
    try:
        rendered = render_markdown(source.body, images, seconds)
    except OverBudget as exc:
        if exc.slow_under is not None and locate is not None:
            exc.line = locate(source.body)
        problem = SourceOverBudget.of(path, source.body_line, exc)
        return SourceEntry(
            None, source.body_line, 0, (problem.line, problem.message), exc.slow_under
        ), None
    return SourceEntry(meta, source.body_line, rendered.words), rendered


@dataclass(frozen=True)
class Snapshot:
    """Everything the content folder held at one check. Immutable; replaced on change."""

    generation: int
    posts: dict[str, Page]
    pages: dict[str, Page]
    surveys: dict[str, Survey]
    aliases: dict[str, str]
    problems: tuple[ContentProblem, ...]
    all_pages: tuple[Page, ...] = ()
    _public: PublicCache = field(default_factory=PublicCache)

    def public(self, now: datetime) -> PublicView:
        return self._public.get(self.posts.values(), self.pages.values(), now)


Item = Page | Survey | ContentProblem


@dataclass(frozen=True)
class _Record:
    """One file as last seen: its stat, its hash, and what it became."""

    mtime_ns: int
    size: int
    kind: str
    hash: str
    item: Item


def _item(name: str, kind: str, digest: str, entry: SourceEntry) -> Item:
    """The page, post or survey a cached entry describes, or the problem that stops it."""
    if entry.problem is not None or entry.meta is None:
        line, message = entry.problem or (1, "unreadable")
        return ContentProblem(Path(name), line, message)
    stem = os.path.splitext(os.path.basename(name))[0]
    try:
        if kind == "survey":
            return _survey(name, stem, digest, entry.meta)
        meta = validate(entry.meta, stem, is_post=kind == "post")
    except FieldError as exc:
        return ContentProblem(Path(name), _line_of(Path(name), exc.field), str(exc))
    return Page(kind, name, digest, entry.words, entry.body_line, meta)


def _survey(name: str, stem: str, digest: str, meta: dict[str, Any]) -> Survey:
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        raise FieldError("title", "title is required")
    questions: list[str] = []
    for item in meta.get("questions") or []:
        if isinstance(item, dict):
            questions.append(str(item.get("label", "")))
            questions.extend(str(option) for option in item.get("options") or [])
    slug = meta.get("slug") if isinstance(meta.get("slug"), str) else default_slug(stem)
    return Survey(
        slug=str(slug),
        file=name,
        hash=digest,
        title=title.strip(),
        description=str(meta.get("description") or ""),
        questions=tuple(q for q in questions if q),
        draft=meta.get("draft") is True,
    )


class Library:
    def __init__(
        self,
        content_dir: Path,
        cache: RenderCache,
        recheck_seconds: float,
        images: ImageLookup | None = None,
        clock: Callable[[], float] = time.monotonic,
        render_seconds: float = DEFAULT_SECONDS,
    ) -> None:
        self.content_dir = content_dir
        self.cache = cache
        self.recheck_seconds = recheck_seconds
        self.images = images
        self.render_seconds = render_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._records: dict[str, _Record] = {}
        self._scan: dict[str, tuple[int, int, str]] | None = None
        self._snapshot: Snapshot | None = None
        self._checked_at = float("-inf")
        self._scanned_at = float("-inf")
        self._pid = os.getpid()
        self._watch = FolderWatch([content_dir / folder for folder, _ in FOLDERS], clock)
        self._renders: OrderedDict[str, Rendered] = OrderedDict()
        self._renders_lock = threading.Lock()
        self.last_rendered = 0

    def current(self) -> Snapshot:
        """The latest snapshot; re-checks the folder when the interval has passed, or at once
        when the kernel reported a change and the last scan is at least that old (so an edit
        after a quiet spell shows at the next request, and scans stay one per interval)."""
        snapshot = self._snapshot
        now = self._clock()
        if (
            snapshot is not None
            and self._pid == os.getpid()
            and now - self._checked_at < self.recheck_seconds
            and (now - self._scanned_at < self.recheck_seconds or not self._watch.pending())
        ):
            return snapshot
        if snapshot is not None and not self._lock.acquire(blocking=False):
            return snapshot  # another thread is checking; serve what we have
        if snapshot is None:
            self._lock.acquire()
        try:
            if snapshot is not None and self._pid == os.getpid() and not self._watch.changed():
                self._checked_at = self._clock()
                return snapshot
            return self._refresh()
        finally:
            self._lock.release()

    def refresh(self) -> Snapshot:
        """Check the folder now, whatever the interval."""
        with self._lock:
            return self._refresh()

    def _refresh(self) -> Snapshot:
        self._pid = os.getpid()
        collecting = gc.isenabled()
        gc.disable()  # thousands of small objects at once: collect once, at the end
        try:
            found = scan(self.content_dir)
            self._scanned_at = self._clock()
            if self._snapshot is not None and found == self._scan:
                return self._snapshot
            records = self._records_for(found)
            self._records, self._scan = records, found
            self._snapshot = self._build(records)
            return self._snapshot
        finally:
            self._checked_at = self._clock()
            if collecting:
                gc.enable()

    def _records_for(self, found: dict[str, tuple[int, int, str]]) -> dict[str, _Record]:
        stored = self.cache.stamps() if not self._records else {}
        records: dict[str, _Record] = {}
        pending: dict[str, tuple[int, int, str, str]] = {}
        changed: dict[str, FileStamp] = {}
        for name, (mtime, size, kind) in found.items():
            old = self._records.get(name)
            if old is not None and (old.mtime_ns, old.size, old.kind) == (mtime, size, kind):
                records[name] = old
                continue
            stamp = stored.get(name)
            if stamp is not None and (stamp.mtime_ns, stamp.size) == (mtime, size):
                pending[name] = (mtime, size, kind, stamp.hash)
                continue
            digest = self._hash_file(Path(name), size, mtime)
            if digest is None:
                continue
            pending[name] = (mtime, size, kind, digest)
            changed[name] = FileStamp(mtime, size, digest)
        entries = self.cache.sources(d for *_, d in pending.values())
        for name, (mtime, size, kind, digest) in pending.items():
            entry = entries.get(digest)
            if entry is None or not entry.holds_for(self.render_seconds):
                entry = self._process(Path(name), digest, size)
            if entry is None:
                continue
            records[name] = _Record(mtime, size, kind, digest, _item(name, kind, digest, entry))
        gone = [p for p in (self._scan or {}) if p not in found]
        if changed or gone:
            self.cache.remember_files(changed, forget=gone)
        return records

    @staticmethod
    def _hash_file(path: Path, size: int, mtime: int) -> str | None:
        if size > MAX_FILE_BYTES:
            return f"oversize-{size}-{mtime}"
        try:
            return content_hash(path.read_bytes())
        except OSError as exc:
            log.error("%s:1: cannot read: %s", path, exc.strerror)
            return None

    def _process(self, path: Path, digest: str, size: int) -> SourceEntry | None:
        if digest.startswith("oversize-"):
            message = f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}"
            return SourceEntry(None, 1, 0, (1, message))
        try:
            raw = path.read_bytes()
        except OSError as exc:
            log.error("%s:1: cannot read: %s", path, exc.strerror)
            return None
        entry, rendered = read_and_render(path, raw, self.images, self.render_seconds)
        self.cache.store(digest, entry, rendered)
        self.last_rendered += 1
        return entry

    def _build(self, records: dict[str, _Record]) -> Snapshot:
        posts: dict[str, Page] = {}
        pages: dict[str, Page] = {}
        surveys: dict[str, Survey] = {}
        problems: list[ContentProblem] = []
        for name in sorted(records):
            item = records[name].item
            if isinstance(item, ContentProblem):
                problems.append(item)
            elif isinstance(item, Survey):
                surveys.setdefault(item.slug, item)
            else:
                target = posts if item.kind == "post" else pages
                first = target.setdefault(item.slug, item)
                if first is not item:
                    problems.append(
                        ContentProblem(
                            item.path,
                            _line_of(item.path, "slug"),
                            f"slug {item.slug!r} is already used by {first.path}",
                        )
                    )
        for problem in problems:
            log.error("%s (skipped)", problem)
        everything = tuple(list(posts.values()) + list(pages.values()))
        generation = (self._snapshot.generation + 1) if self._snapshot else 1
        return Snapshot(
            generation, posts, pages, surveys, _aliases(everything), tuple(problems), everything
        )

    # --- rendered bodies ----------------------------------------------------------------------

    def rendered(self, page: Page | Survey) -> Rendered:
        """The rendered body of ``page``, from memory, the cache, or rendered again. Raises
        :class:`OverBudget` when rendering it again no longer fits the budget."""
        with self._renders_lock:
            found = self._renders.get(page.hash)
            if found is not None:
                self._renders.move_to_end(page.hash)
                return found
        found = self.cache.rendered(page.hash)
        if found is None:
            source = parse_source(page.path)
            found = render_markdown(source.body, self.images, self.render_seconds)
        with self._renders_lock:
            self._renders[page.hash] = found
            while len(self._renders) > RENDER_MEMORY:
                self._renders.popitem(last=False)
        return found

    def texts(self, items: Iterable[Page | Survey]) -> dict[str, str]:
        """Plain text of many bodies at once, by hash (for the search index)."""
        wanted = list(items)
        found = self.cache.texts(item.hash for item in wanted)
        for item in wanted:
            if item.hash not in found:
                try:
                    found[item.hash] = self.rendered(item).text
                except OverBudget as exc:
                    log.error("%s: not indexed: %s", item.path, exc)
                    found[item.hash] = ""
        return found


LIBRARY = Slot[Library](
    "library", "the pages, posts and surveys of content/", set_by="app.site.wiring.init_app"
)


def _line_of(path: Path, name: str) -> int:
    try:
        return parse_source(path).line(name)
    except SourceError:
        return 1


def _aliases(pages: Iterable[Page]) -> dict[str, str]:
    """Old path → current URL; the first page to claim an alias keeps it."""
    aliases: dict[str, str] = {}
    for page in pages:
        for alias in page.meta.aliases:
            aliases.setdefault(normalize_path(alias), page.url)
    return aliases
