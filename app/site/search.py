"""Site search, with Whoosh hidden behind a few functions:

- :func:`search` — ``search(query, page, tag) -> Results``: hits with highlighted snippets, tag
  facets with counts, pagination, and "did you mean" when nothing matches;
- :func:`sync` — bring the index in step with what is public (changed, new, removed and newly
  scheduled documents only), called whenever the content snapshot or the public view changes;
- :func:`rebuild` — a complete new index beside the old one, swapped in atomically.

Every word of a query must match (in the title, the tags, the description or the body); words
are stemmed, so "permissions" finds "permission". Any text, including syntax garbage, is a valid
query: only its words count.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from markupsafe import Markup
from whoosh import query as wq
from whoosh.lang.porter import stem as porter_stem
from whoosh.scoring import BM25F

from app.site.library import Library, Snapshot
from app.site.pages import Page, PublicView, Survey
from app.site.searchindex import Document, IndexFolder, analyzer
from app.site.snippets import Highlighter

log = logging.getLogger("pullfirst.search")

PER_PAGE = 10
MAX_QUERY_WORDS = 8
MAX_PAGE = 100
FACETS_SHOWN = 12
TERM_CACHE = 512
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


def _empty(query: str, tag: str | None, page: int, suggestion: str | None = None,
           available: bool = True) -> Results:
    return Results(query, tag, page, 0, 0, (), (), suggestion, available)


# --- the searcher each thread keeps -------------------------------------------------------------


class _Searcher:
    """One Whoosh searcher plus the bit sets derived from it, valid for one index generation."""

    def __init__(self, searcher: Any, folder: Path) -> None:
        self.searcher = searcher
        self.folder = folder
        self.reader = searcher.reader()
        self.size = int(self.reader.doc_count_all())
        self._terms: OrderedDict[str, int] = OrderedDict()
        self._tags: dict[str, tuple[str, int]] | None = None
        self.live = self._live_bits()

    def _ids_to_bits(self, ids: Iterable[int]) -> int:
        buffer = bytearray((self.size + 8) // 8)
        for docnum in ids:
            buffer[docnum >> 3] |= 1 << (docnum & 7)
        return int.from_bytes(buffer, "little")

    def _live_bits(self) -> int:
        all_bits = (1 << self.size) - 1
        if not self.reader.has_deletions():
            return all_bits
        bits: int = self._ids_to_bits(self.reader.all_doc_ids())
        return bits

    def term_bits(self, field: str, text: str) -> int:
        key = f"{field}:{text}"
        found = self._terms.get(key)
        if found is not None:
            self._terms.move_to_end(key)
            return found
        if (field, text) in self.reader:
            bits = self._ids_to_bits(self.reader.postings(field, text).all_ids()) & self.live
        else:
            bits = 0
        self._terms[key] = bits
        while len(self._terms) > TERM_CACHE:
            self._terms.popitem(last=False)
        return bits

    def tags(self) -> dict[str, tuple[str, int]]:
        """``slug → (name, bits)`` for every tag in the index."""
        if self._tags is None:
            names: dict[str, str] = {}
            for fields in self.reader.all_stored_fields():
                for slug, name in fields.get("tagnames") or []:
                    names.setdefault(slug, name)
            self._tags = {slug: (names.get(slug, slug), self.term_bits("tags", slug))
                          for slug in names}
        return self._tags


class SearchService:
    """Owns the index folder of one app: searching, syncing and rebuilding."""

    def __init__(self, root: Path, recheck_seconds: float) -> None:
        self.folder = IndexFolder(root)
        self.recheck_seconds = recheck_seconds
        self._local = threading.local()
        self._analyzer = analyzer()
        self._sync_lock = threading.Lock()
        self._synced: tuple[int, int] | None = None

    # --- searching ----------------------------------------------------------------------------

    def _searcher(self) -> _Searcher | None:
        state: _Searcher | None = getattr(self._local, "state", None)
        checked = getattr(self._local, "checked", 0.0)
        if state is not None and time.monotonic() - checked < self.recheck_seconds:
            return state
        self._local.checked = time.monotonic()
        folder = self.folder.current_dir()
        if state is not None and folder == state.folder and state.searcher.up_to_date():
            return state
        ix = self.folder.open()
        if ix is None:
            self._local.state = None
            return None
        fresh = _Searcher(ix.searcher(weighting=BM25F()), self.folder.current_dir() or Path())
        self._local.state = fresh
        return fresh

    def stems(self, text: str) -> list[str]:
        words = WORD.findall(text)[:MAX_QUERY_WORDS * 3]
        stems = [t.text for t in self._analyzer(" ".join(words), mode="query")]
        return list(dict.fromkeys(stems))[:MAX_QUERY_WORDS]

    def search(self, text: str, page: int = 1, tag: str | None = None) -> Results:
        text = " ".join(text.split())[:200]
        page = min(max(page, 1), MAX_PAGE)
        state = self._searcher()
        if state is None:
            return _empty(text, tag, page, available=False)
        stems = self.stems(text)
        if not stems:
            return _empty(text, tag, page)
        matched = state.live
        for stem in stems:
            matched &= state.term_bits("content", stem)
        if not matched:
            return _empty(text, tag, page, self._suggest(state, text))
        tags = state.tags()
        facets = sorted(
            (Facet(slug, name, (matched & bits).bit_count()) for slug, (name, bits) in
             tags.items()),
            key=lambda f: (-f.count, f.name.lower()),
        )
        facets = [f for f in facets if f.count][:FACETS_SHOWN]
        if tag is not None:
            matched &= tags.get(tag, ("", 0))[1]
        total = matched.bit_count()
        pages = max(1, -(-total // PER_PAGE))
        if total == 0 or page > pages:
            return Results(text, tag, page, pages, total, (), tuple(facets))
        hits = self._top(state, stems, matched, page, tag is not None)
        return Results(text, tag, page, pages, total, hits, tuple(facets))

    def _top(self, state: _Searcher, stems: list[str], matched: int, page: int,
             filtered: bool) -> tuple[Hit, ...]:
        whoosh_query = wq.And([wq.Term("content", s) for s in stems])
        options: dict[str, Any] = {"terms": False}
        if filtered:
            options["filter"] = _bits_to_ids(matched)
        found = state.searcher.search_page(whoosh_query, page, pagelen=PER_PAGE, **options)
        highlighter = Highlighter(stems, porter_stem)
        hits = []
        for hit in found:
            fields = hit.fields()
            hits.append(Hit(
                url=fields["url"], kind=fields["kind"], date=fields.get("date", ""),
                title=highlighter.mark(fields["title"]),
                snippet=highlighter.snippet(fields.get("text", ""), fields.get("summary", "")),
                tags=tuple((s, n) for s, n in fields.get("tagnames") or []),
            ))
        return tuple(hits)

    def _suggest(self, state: _Searcher, text: str) -> str | None:
        """The query with each unknown word replaced by the closest indexed word (fewest
        edits, then most documents), or None when no word needed changing."""
        changed, words = False, []
        for word in WORD.findall(text.lower())[:MAX_QUERY_WORDS]:
            stems = self.stems(word)
            if not stems or state.term_bits("content", stems[0]) or len(word) < 3:
                words.append(word)
                continue
            best = self._closest(state, word)
            changed = changed or best is not None
            words.append(best or word)
        return " ".join(words) if changed else None

    @staticmethod
    def _closest(state: _Searcher, word: str) -> str | None:
        field = "spell_content"
        for distance in (1, 2):
            found = [str(t) for t in state.reader.terms_within(field, word, distance)]
            found = [t for t in found if t != word]
            if found:
                return min(found, key=lambda t: (edit_distance(word, t),
                                                 -state.reader.doc_frequency(field, t), t))
        return None

    # --- keeping the index in step --------------------------------------------------------------

    def sync(self, snapshot: Snapshot, view: PublicView, library: Library) -> int | None:
        """Index what changed since the last sync; returns how many documents were written,
        or None when another process holds the index (it will do the work)."""
        marker = (snapshot.generation, id(view))
        if self._synced == marker or not self._sync_lock.acquire(blocking=False):
            return 0
        try:
            if self.folder.current_dir() is None:
                self.rebuild(snapshot, view, library, procs=1)
                self._synced = marker
                return len(self.folder.stamps())
            wanted = searchable(snapshot, view)
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

    def rebuild(self, snapshot: Snapshot, view: PublicView, library: Library, procs: int,
                progress: Callable[[int], None] | None = None) -> int:
        items = list(searchable(snapshot, view).values())
        self.folder.rebuild(iter_documents(items, library), procs, progress)
        self._local = threading.local()
        return len(items)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


_BYTE_BITS = tuple(tuple(i for i in range(8) if value >> i & 1) for value in range(256))


def _bits_to_ids(bits: int) -> set[int]:
    ids: set[int] = set()
    raw = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
    for index, value in enumerate(raw):
        if value:
            base = index * 8
            ids.update(base + i for i in _BYTE_BITS[value])
    return ids


# --- what is searchable -------------------------------------------------------------------------


Searchable = Page | Survey


def searchable(snapshot: Snapshot, view: PublicView) -> dict[str, Searchable]:
    """Key → item for everything the public may find: public posts and pages, surveys."""
    found: dict[str, Searchable] = {f"post:{p.slug}": p for p in view.posts}
    found.update({f"page:{p.slug}": p for p in view.pages.values()})
    found.update({f"survey:{s.slug}": s for s in snapshot.surveys.values() if not s.draft})
    return found


def _document(item: Searchable, text: str) -> Document:
    from app.site.meta import tag_slug

    if isinstance(item, Survey):
        return Document(f"survey:{item.slug}", item.hash, "survey", item.url, item.title,
                        item.description, f"{text} {' '.join(item.questions)}".strip())
    published = item.published_at
    return Document(
        f"{item.kind}:{item.slug}", item.hash, item.kind, item.url, item.title,
        item.description, text, tuple((tag_slug(t), t) for t in item.tags),
        published.date().isoformat() if published else "",
    )


def documents_for(items: Iterable[Searchable], library: Library) -> list[Document]:
    chosen = list(items)
    texts = library.texts(chosen)
    return [_document(item, texts.get(item.hash, "")) for item in chosen]


def iter_documents(items: list[Searchable], library: Library, batch: int = 500
                   ) -> Iterable[Document]:
    for start in range(0, len(items), batch):
        yield from documents_for(items[start:start + batch], library)


# --- the app's search ---------------------------------------------------------------------------


def service() -> SearchService:
    found: SearchService = current_app.extensions["pullfirst.search"]
    return found


def search(text: str, page: int = 1, tag: str | None = None) -> Results:
    return service().search(text, page, tag)
