"""Site search, with Whoosh hidden behind a few functions:

- :func:`search` — ``search(query, page, tag) -> Results``: hits with highlighted snippets, tag
  facets with counts, pagination, and "did you mean" when nothing matches;
- :func:`sync` — bring the index in step with what is public (changed, new, removed and newly
  scheduled documents only), called whenever the content snapshot or the public view changes;
- :func:`rebuild` — a complete new index beside the old one, swapped in atomically.

Every word of a query must match (in the title, the tags, the description or the body); words
are stemmed, so "permissions" finds "permission". ``tag:consent`` (or ``tag:"two words"``) keeps
the results to a topic (:mod:`app.site.searchquery`); an unknown topic is said to be unknown,
with the topics there are, and is never spell-corrected. A query of only common words ("the",
"a the of") says so instead of finding nothing. Any text, including syntax garbage, is a valid
query: only its words and topics count.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup
from whoosh.lang.porter import stem as porter_stem
from whoosh.scoring import BM25F

from app.registry import Slot
from app.site.library import Library, Snapshot
from app.site.meta import tag_slug
from app.site.pages import PublicView
from app.site.ranking import Ranker, Term
from app.site.searchdocs import documents_for, iter_documents, searchable
from app.site.searchindex import IndexFolder, analyzer
from app.site.searchquery import parse_query, query_text
from app.site.snippets import Highlighter

log = logging.getLogger("pullfirst.search")

PER_PAGE = 10
AUTO_REBUILD_LIMIT = 2_000  # larger sites build their first index with content index --rebuild
MAX_QUERY_WORDS = 8
MAX_PAGE = 100
FACETS_SHOWN = 12
WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Hit:
    url: str
    title: Markup
    kind: str
    snippet: Markup
    date: str
    tags: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Facet:
    slug: str
    name: str
    count: int


@dataclass(frozen=True)
class Results:
    query: str
    tag: str | None
    page: int
    pages: int
    total: int
    hits: tuple[Hit, ...]
    facets: tuple[Facet, ...]
    suggestion: str | None = None
    available: bool = True
    # The topics the query named with ``tag:`` and found, and those it named that do not exist
    # (with every topic there is, so the reader can pick one).
    topics: tuple[Facet, ...] = ()
    unknown_topics: tuple[str, ...] = ()
    all_topics: tuple[Facet, ...] = ()
    # Only common words ("the", "a the of"): nothing to look for.
    only_common_words: bool = False


def _empty(
    query: str, tag: str | None, page: int, suggestion: str | None = None, available: bool = True
) -> Results:
    return Results(query, tag, page, 0, 0, (), (), suggestion, available)


# --- the searcher each thread keeps -------------------------------------------------------------


class _Searcher:
    """One Whoosh searcher and its ranker, valid for one index generation."""

    def __init__(self, searcher: Any, folder: Path) -> None:
        self.searcher = searcher
        self.folder = folder
        self.ranker = Ranker(searcher)
        self._tags: dict[str, tuple[str, Term]] | None = None

    def tags(self) -> dict[str, tuple[str, Term]]:
        """``slug → (name, term data)`` for every tag in the index."""
        if self._tags is None:
            found: dict[str, tuple[str, Term]] = {}
            for raw in self.ranker.reader.lexicon("tags"):
                slug = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
                term = self.ranker.term(slug, "tags")
                if term is None:
                    continue
                names = dict(self.searcher.stored_fields(term.ids[0]).get("tagnames") or [])
                found[slug] = (str(names.get(slug, slug)), term)
            self._tags = found
        return self._tags


class SearchService:
    """Owns the index folder of one app: searching, syncing and rebuilding."""

    def __init__(self, root: Path, recheck_seconds: float) -> None:
        self.folder = IndexFolder(root)
        self.recheck_seconds = recheck_seconds
        # One searcher per process, shared by its threads under a lock: its caches are the
        # memory-hungry part, and a search takes milliseconds.
        self._state: _Searcher | None = None
        self._checked = float("-inf")
        self._pid = os.getpid()
        self._lock = threading.RLock()
        self._analyzer = analyzer()
        self._sync_lock = threading.Lock()
        self._synced: tuple[int, int] | None = None
        self._warned = False

    # --- searching ----------------------------------------------------------------------------

    def _searcher(self) -> _Searcher | None:
        """The process's searcher, reopened when the index changed (call with the lock)."""
        if self._pid != os.getpid():  # a forked worker never uses its parent's file handles
            self._state, self._checked, self._pid = None, float("-inf"), os.getpid()
        state = self._state
        if state is not None and time.monotonic() - self._checked < self.recheck_seconds:
            return state
        self._checked = time.monotonic()
        folder = self.folder.current_dir()
        if state is not None and folder == state.folder and state.searcher.up_to_date():
            return state
        self._forget()
        ix = self.folder.open()
        if ix is None:
            self._synced = None  # the next sync builds it (or says how to)
            return None
        self._state = _Searcher(ix.searcher(weighting=BM25F()), folder or Path())
        return self._state

    def _forget(self) -> None:
        if self._state is not None and self._pid == os.getpid():
            self._state.searcher.close()
        self._state = None

    def stems(self, text: str) -> list[str]:
        words = WORD.findall(text)[: MAX_QUERY_WORDS * 3]
        stems = [t.text for t in self._analyzer(" ".join(words), mode="query")]
        return list(dict.fromkeys(stems))[:MAX_QUERY_WORDS]

    def forget_cached_terms(self) -> None:
        """Drop the words' and tags' data this process keeps for reuse, so the next search
        reads every posting list it needs from the index (what the benchmark calls uncached)."""
        with self._lock:
            if self._state is not None:
                self._state.ranker.forget()
                self._state._tags = None

    def search(self, text: str, page: int = 1, tag: str | None = None) -> Results:
        with self._lock:
            return self._search(text, page, tag)

    def _search(self, text: str, page: int, tag: str | None) -> Results:
        text = " ".join(text.split())[:200]
        page = min(max(page, 1), MAX_PAGE)
        state = self._searcher()
        if state is None:
            return _empty(text, tag, page, available=False)
        query = parse_query(text)
        tags = state.tags()
        topics, unknown = self._topics(tags, query.tags)
        if unknown:
            everything = tuple(
                sorted(
                    (
                        Facet(slug, name, data.bits.bit_count())
                        for slug, (name, data) in tags.items()
                    ),
                    key=lambda f: f.name.lower(),
                )
            )
            return Results(
                text, tag, page, 0, 0, (), (), unknown_topics=unknown, all_topics=everything
            )
        stems = self.stems(query.words)
        if not stems and not topics:
            return Results(
                text, tag, page, 0, 0, (), (), only_common_words=bool(WORD.search(query.words))
            )
        terms = [state.ranker.term(stem) for stem in stems]
        matched = state.ranker.live
        for term in terms:
            matched &= term.bits if term is not None else 0
        for topic in topics:
            topic_term = tags[topic.slug][1]
            matched &= topic_term.bits
            if not stems:
                terms.append(topic_term)  # a topic alone: its articles, in index order
        found = tuple(Facet(t.slug, t.name, matched.bit_count()) for t in topics)
        if not matched:
            suggestion = self._suggest(state, query.words) if stems else None
            if suggestion is not None:
                suggestion = query_text(suggestion, query.tags)
            return Results(text, tag, page, 0, 0, (), (), suggestion, topics=found)
        facets = sorted(
            (
                Facet(slug, name, (matched & data.bits).bit_count())
                for slug, (name, data) in tags.items()
            ),
            key=lambda f: (-f.count, f.name.lower()),
        )
        facets = [f for f in facets if f.count][:FACETS_SHOWN]
        allowed = None
        for topic in topics:  # the ranker walks the words' documents: keep it to the topics
            ids = set(tags[topic.slug][1].ids)
            allowed = ids if allowed is None else allowed & ids
        if tag is not None:
            chosen = tags.get(tag)
            matched &= chosen[1].bits if chosen is not None else 0
            ids = set(chosen[1].ids) if chosen is not None else set()
            allowed = ids if allowed is None else allowed & ids
        total = matched.bit_count()
        pages = max(1, -(-total // PER_PAGE))
        if total == 0 or page > pages:
            return Results(text, tag, page, pages, total, (), tuple(facets), topics=found)
        ranked = state.ranker.top([t for t in terms if t is not None], page * PER_PAGE, allowed)
        hits = self._hits(state, stems, ranked[(page - 1) * PER_PAGE :])
        return Results(text, tag, page, pages, total, hits, tuple(facets), topics=found)

    @staticmethod
    def _topics(
        tags: dict[str, tuple[str, Term]], named: tuple[str, ...]
    ) -> tuple[list[Facet], tuple[str, ...]]:
        """The topics ``named`` with ``tag:`` that exist (by slug or name, any case), and the
        names of those that do not."""
        found: list[Facet] = []
        unknown: list[str] = []
        for name in named:
            slug = tag_slug(name)
            if slug in tags:
                if all(f.slug != slug for f in found):
                    found.append(Facet(slug, tags[slug][0], 0))
            else:
                unknown.append(name)
        return found, tuple(unknown)

    @staticmethod
    def _hits(state: _Searcher, stems: list[str], docnums: list[int]) -> tuple[Hit, ...]:
        highlighter = Highlighter(stems, porter_stem)
        hits = []
        for docnum in docnums:
            fields = state.searcher.stored_fields(docnum)
            hits.append(
                Hit(
                    url=fields["url"],
                    kind=fields["kind"],
                    date=fields.get("date", ""),
                    title=highlighter.mark(fields["title"]),
                    snippet=highlighter.snippet(fields.get("text", ""), fields.get("summary", "")),
                    tags=tuple((s, n) for s, n in fields.get("tagnames") or []),
                )
            )
        return tuple(hits)

    def _suggest(self, state: _Searcher, text: str) -> str | None:
        """The query with each unknown word replaced by the closest indexed word (fewest
        edits, then most documents), or None when no word needed changing."""
        changed, words = False, []
        for word in WORD.findall(text.lower())[:MAX_QUERY_WORDS]:
            stems = self.stems(word)
            if not stems or state.ranker.term(stems[0]) is not None or len(word) < 3:
                words.append(word)
                continue
            best = self._closest(state, stems[0])
            changed = changed or best is not None
            words.append(best or word)
        return " ".join(words) if changed else None

    @staticmethod
    def _closest(state: _Searcher, stem: str) -> str | None:
        """The indexed word closest to ``stem`` (fewest edits, then most documents), written
        as it appears in the most relevant document that has it."""
        reader = state.ranker.reader
        for distance in (1, 2):
            found = [
                t.decode() if isinstance(t, bytes) else str(t)
                for t in reader.terms_within("content", stem, distance)
            ]
            found = [t for t in found if t != stem]
            if found:
                best = min(
                    found,
                    key=lambda t: (edit_distance(stem, t), -reader.doc_frequency("content", t), t),
                )
                return _surface(state, best)
        return None

    # --- keeping the index in step --------------------------------------------------------------

    def sync(self, snapshot: Snapshot, view: PublicView, library: Library) -> int | None:
        """Index what changed since the last sync; returns how many documents were written,
        or None when another process holds the index (it will do the work)."""
        marker = (snapshot.generation, view.serial)
        if self._synced == marker or not self._sync_lock.acquire(blocking=False):
            return 0
        try:
            wanted = searchable(snapshot, view)
            if self.folder.current_dir() is None:
                if len(wanted) > AUTO_REBUILD_LIMIT:
                    if not self._warned:
                        log.error(
                            "no current search index for %d documents: run flask --app "
                            "app content index --rebuild",
                            len(wanted),
                        )
                        self._warned = True
                    self._synced = marker
                    return None
                self.rebuild(snapshot, view, library, procs=1)
                self._synced = marker
                return len(wanted)
            indexed = self.folder.stamps()
            changed = [item for key, item in wanted.items() if indexed.get(key) != item.hash]
            removed = [key for key in indexed if key not in wanted]
            if changed or removed:
                documents = documents_for(changed, library)
                if not self.folder.update(documents, removed):
                    return None
                log.info("search index: %d updated, %d removed", len(changed), len(removed))
            self._synced = marker
            return len(changed) + len(removed)
        finally:
            self._sync_lock.release()

    def rebuild(
        self,
        snapshot: Snapshot,
        view: PublicView,
        library: Library,
        procs: int,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        items = list(searchable(snapshot, view).values())
        self.folder.rebuild(iter_documents(items, library), procs, progress)
        with self._lock:
            self._forget()
        return len(items)


def _surface(state: _Searcher, stem: str) -> str | None:
    """A word of the text that stems to ``stem`` ("permiss" → "permission")."""
    term = state.ranker.term(stem)
    if term is None:
        return None
    top = state.ranker.top([term], 1)
    fields = state.searcher.stored_fields(top[0] if top else term.ids[0])
    highlighter = Highlighter([stem], porter_stem)
    for text in (fields.get("title", ""), fields.get("summary", ""), fields.get("text", "")):
        for start, end, _ in highlighter.matches(text, limit=1):
            return str(text[start:end]).lower()
    return None


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


# --- the app's search ---------------------------------------------------------------------------

SEARCH = Slot[SearchService](
    "search", "the search index of the public pages", set_by="app.site.wiring.init_app"
)


def service() -> SearchService:
    return SEARCH.get()


def search(text: str, page: int = 1, tag: str | None = None) -> Results:
    return service().search(text, page, tag)
