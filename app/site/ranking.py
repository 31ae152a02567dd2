"""Fast top-ten ranking and counting over one Whoosh index generation.

Whoosh's own collector walks every matching posting through several layers of Python matcher
objects; on a 10,000-article corpus a common word costs tens of milliseconds. This module reads
each query word's posting list once (whole blocks at a time), turns it into

- a bit set of the documents that contain the word (counts and tag facets are ``&`` and
  ``bit_count`` on those), and
- a dense array of the word's BM25F contribution per document, with Whoosh's own formula and
  statistics (idf, quantized field lengths, average length, B = 0.75, K1 = 1.2),

and keeps both for the most recently used words. A query's ranking is then the sum of its words'
arrays over the documents of its rarest word: the same order Whoosh's BM25F gives, computed in a
few milliseconds. Nothing here is seen outside :mod:`app.site.search`.
"""

from __future__ import annotations

import heapq
import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

B, K1 = 0.75, 1.2
FIELD = "content"
CACHE_BYTES = 48_000_000  # per process (one searcher, shared): the term data kept for reuse


@dataclass(frozen=True)
class Term:
    ids: array[int]  # docnums containing the word (deleted documents removed)
    scores: array[float]  # BM25F contribution by docnum, 0.0 where absent
    bits: int

    @property
    def size(self) -> int:
        return self.ids.itemsize * len(self.ids) + self.scores.itemsize * len(self.scores)


def _read_postings(matcher: Any, offset: int, ids: array[int], weights: array[float]) -> None:
    """Append every (docnum + offset, weight) of one segment's posting list."""
    if hasattr(matcher, "_read_ids") and hasattr(matcher, "_next_block"):
        while matcher.is_active():  # whole blocks: Whoosh's W3 posting format
            matcher._read_ids()
            matcher._read_weights()
            ids.extend(docnum + offset for docnum in matcher._ids)
            weights.extend(float(weight) for weight in matcher._weights)
            matcher._next_block()
        return
    while matcher.is_active():  # any other matcher, one posting at a time
        ids.append(matcher.id() + offset)
        weights.append(matcher.weight())
        matcher.next()


class Ranker:
    """Term data and ranking for one searcher (one index generation). Thread-safe."""

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.size = int(self.reader.doc_count_all())
        self.avg_length = float(searcher.avg_field_length(FIELD) or 1.0)
        self.lengths = array(
            "d", (self.reader.doc_field_length(d, FIELD, 0) for d in range(self.size))
        )
        deleted = (
            set(range(self.size)) - set(self.reader.all_doc_ids())
            if self.reader.has_deletions()
            else set()
        )
        self.deleted = frozenset(deleted)
        self.live = (
            self.to_bits(d for d in range(self.size) if d not in deleted)
            if deleted
            else (1 << self.size) - 1
        )
        self._cache: OrderedDict[tuple[str, str], Term] = OrderedDict()
        self._cached_bytes = 0
        self._lock = threading.Lock()

    def to_bits(self, ids: Iterable[int]) -> int:
        buffer = bytearray((self.size + 8) // 8)
        for docnum in ids:
            buffer[docnum >> 3] |= 1 << (docnum & 7)
        return int.from_bytes(buffer, "little")

    def term(self, text: str, field: str = FIELD) -> Term | None:
        """The data of one indexed word (or tag), or None when no live document has it."""
        key = (field, text)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        found = self._load(field, text)
        if found is None:
            return None
        with self._lock:
            self._cache[key] = found
            self._cached_bytes += found.size
            while self._cached_bytes > CACHE_BYTES and len(self._cache) > 1:
                _, dropped = self._cache.popitem(last=False)
                self._cached_bytes -= dropped.size
        return found

    def forget(self) -> None:
        """Drop every word's data kept for reuse: the next searches read them again."""
        with self._lock:
            self._cache.clear()
            self._cached_bytes = 0

    def _load(self, field: str, text: str) -> Term | None:
        ids: array[int] = array("i")
        weights: array[float] = array("d")
        for leaf, offset in self.reader.leaf_readers():
            if (field, text) in leaf:
                _read_postings(leaf.postings(field, text), offset, ids, weights)
        if self.deleted:
            pairs = [(d, w) for d, w in zip(ids, weights, strict=True) if d not in self.deleted]
            ids, weights = array("i", (d for d, _ in pairs)), array("d", (w for _, w in pairs))
        if not ids:
            return None
        scores: array[float] = array("d", bytes(8 * self.size))
        if field == FIELD:
            idf = float(self.searcher.idf(field, text))
            lengths, average = self.lengths, self.avg_length
            for docnum, weight in zip(ids, weights, strict=True):
                norm = K1 * ((1 - B) + B * lengths[docnum] / average)
                scores[docnum] = idf * (weight * (K1 + 1)) / (weight + norm)
        return Term(ids, scores, self.to_bits(ids))

    def top(self, terms: list[Term], count: int, allowed: set[int] | None = None) -> list[int]:
        """Docnums of the ``count`` best documents containing every term, best first (ties by
        docnum, as Whoosh orders them). ``allowed`` restricts them to those docnums."""
        rarest = min(terms, key=lambda t: len(t.ids))
        others = [t.scores for t in terms if t is not rarest]
        first = rarest.scores
        scored: list[tuple[float, int]] = []
        for docnum in rarest.ids:
            if allowed is not None and docnum not in allowed:
                continue
            score = first[docnum]
            for scores in others:
                value = scores[docnum]
                if not value:
                    break
                score += value
            else:
                scored.append((score, -docnum))
        return [-negative for _, negative in heapq.nlargest(count, scored)]
