"""Fast top-ten ranking and counting over one Whoosh index generation.

Whoosh's own collector walks every matching posting through several layers of Python matcher
objects; on a 10,000-article corpus a common word costs tens of milliseconds. This module reads
each query word's posting list once, through Whoosh's public scoring API, and turns it into

- a bit set of the documents that contain the word (counts and tag facets are ``&`` and
  ``bit_count`` on those), and
- a dense array of the word's BM25F contribution per document,

and keeps both for the most recently used words. The contributions come from
:class:`PullfirstBM25F`, a Whoosh ``WeightingModel``: for each segment (from
``Searcher.leaf_searchers()``, with its docnum offset) the model gives the word's scorer, and
the segment's ``IndexReader.postings(field, word, scorer=scorer)`` its matcher, which is walked
with public ``Matcher`` methods only (``is_active``, ``id``, ``next``) and scored with the
scorer's ``score(matcher)``, what ``Matcher.score()`` returns. That scorer is Whoosh's BM25F to
the last bit, the same formula and statistics (idf, quantized field lengths, average length,
B = 0.75, K1 = 1.2); it only looks up each document's length normalisation in a table made once
per index generation instead of decoding the field length at every posting. A query's ranking
is then the sum of its words' arrays over the documents of its rarest word: the same order and
scores Whoosh's BM25F gives, computed in a few milliseconds. Nothing here is seen outside
:mod:`app.site.search`.
"""

from __future__ import annotations

import heapq
import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from whoosh.scoring import BaseScorer, WeightingModel, WeightScorer

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


class PullfirstBM25F(WeightingModel):
    """Whoosh's BM25F (``whoosh.scoring.BM25F(B, K1)``: same formula, idf, quantized field
    lengths and average length) for one searcher, whose scorer reads each document's length
    normalisation ``K1 * ((1 - B) + B * length / average)`` from a table instead of decoding
    the field length at every posting. The tables of the searcher and of its segments are made
    when the model is; a table for any other searcher is made the first time it is asked for.
    Fields other than ``field`` are scored by their weight alone."""

    def __init__(self, searcher: Any, field: str = FIELD, b: float = B, k1: float = K1) -> None:
        self.field, self.b, self.k1 = field, b, k1
        self.average = float(searcher.avg_field_length(field) or 1)
        self.tables: list[tuple[Any, array[float]]] = []
        norms = self.norms(searcher)
        for leaf, offset in searcher.leaf_searchers():
            if leaf is not searcher:
                self.tables.append((leaf, norms[offset : offset + leaf.doc_count_all()]))

    def norm(self, length: float) -> float:
        return self.k1 * ((1 - self.b) + self.b * length / self.average)

    def norms(self, searcher: Any) -> array[float]:
        """The length normalisation of each of ``searcher``'s documents, by its docnum."""
        for known, norms in self.tables:
            if known is searcher:
                return norms
        reader = searcher.reader()
        norms = array(
            "d",
            (
                self.norm(reader.doc_field_length(docnum, self.field, 1))
                for docnum in range(reader.doc_count_all())
            ),
        )
        self.tables.append((searcher, norms))
        return norms

    def scorer(self, searcher: Any, fieldname: str, text: str, qf: int = 1) -> BaseScorer:
        if fieldname != self.field or not searcher.schema[fieldname].scorable:
            return WeightScorer.for_(searcher, fieldname, text)
        return PullfirstBM25FScorer(self, searcher, fieldname, text)


class PullfirstBM25FScorer(BaseScorer):
    """Scores one word's postings in one searcher (usually a segment's) as Whoosh's
    ``BM25FScorer`` does: global idf and average length, this searcher's docnums. It offers no
    block quality (nothing here skips postings: every one counts towards totals and facets)."""

    def __init__(self, model: PullfirstBM25F, searcher: Any, fieldname: str, text: str) -> None:
        self.idf = float(searcher.get_parent().idf(fieldname, text))
        self.k1_plus_1 = model.k1 + 1
        self.table = model.norms(searcher)

    def score(self, matcher: Any) -> float:
        weight: float = matcher.weight()
        norm: float = self.table[matcher.id()]
        return self.idf * ((weight * self.k1_plus_1) / (weight + norm))


def _read_scores(
    matcher: Any, scorer: BaseScorer, offset: int, ids: array[int], scores: array[float]
) -> None:
    """Append each posting's docnum + ``offset`` to ``ids`` and store its score in ``scores``.
    (``scorer.score(matcher)`` is what ``matcher.score()`` returns, one call sooner.)"""
    active, docnum, score, advance = matcher.is_active, matcher.id, scorer.score, matcher.next
    while active():
        found = docnum() + offset
        ids.append(found)
        scores[found] = score(matcher)
        advance()


class Ranker:
    """Term data and ranking for one searcher (one index generation). Thread-safe."""

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.size = int(self.reader.doc_count_all())
        self.model = PullfirstBM25F(searcher)
        deleted = (
            set(range(self.size)) - set(self.reader.all_doc_ids())
            if self.reader.has_deletions()
            else set()
        )
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
        # Whoosh's segment matchers leave deleted documents out of the postings.
        ids: array[int] = array("i")
        scores: array[float] = array("d", bytes(8 * self.size))
        for leaf, offset in self.searcher.leaf_searchers():
            reader = leaf.reader()
            if (field, text) not in reader:
                continue
            if field == FIELD:
                scorer = self.model.scorer(leaf, field, text)
                matcher = reader.postings(field, text, scorer=scorer)
                _read_scores(matcher, scorer, offset, ids, scores)
            else:  # a tag: only which documents have it counts
                ids.extend(docnum + offset for docnum in reader.postings(field, text).all_ids())
        if not ids:
            return None
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
