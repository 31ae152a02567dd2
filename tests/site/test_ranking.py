"""The ranker against Whoosh's own BM25F, on a generated index of several segments with deleted
documents: the same scores, the same top ten in the same order, the same totals."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from whoosh import index, scoring
from whoosh import query as wq

from app.site.ranking import FIELD, Ranker
from app.site.searchindex import Document, analyzer, schema

WORDS = [
    "permission",
    "ledger",
    "consent",
    "reader",
    "quiet",
    "strategy",
    "replies",
    "walrus",
    "event",
    "granted",
    "cadence",
    "receipt",
    "harbour",
]
SEGMENTS, PER_SEGMENT, DELETED = 4, 60, 25


def _document(rng: random.Random, number: int) -> Document:
    def words(fewest: int, most: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(fewest, most)))

    return Document(
        key=f"post:{number}",
        hash=str(number),
        kind="post",
        url=f"/posts/{number}/",
        title=words(1, 4),
        summary=words(0, 8),
        text=words(3, 120),
        tags=(("walrus-watch", "Walrus watch"),) if number % 3 == 0 else (),
    )


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Whoosh's BM25F searcher on SEGMENTS unmerged segments, DELETED documents deleted."""
    folder: Path = tmp_path_factory.mktemp("index")
    rng = random.Random(5)
    ix = index.create_in(str(folder), schema())
    for segment in range(SEGMENTS):
        writer = ix.writer()
        for number in range(segment * PER_SEGMENT, (segment + 1) * PER_SEGMENT):
            writer.add_document(**_document(rng, number).fields())
        writer.commit(merge=False)
    writer = ix.writer()
    for number in rng.sample(range(SEGMENTS * PER_SEGMENT), DELETED):
        writer.delete_by_term("key", f"post:{number}")
    writer.commit(merge=False)
    with ix.searcher(weighting=scoring.BM25F()) as found:
        assert len(found.leaf_searchers()) == SEGMENTS
        assert found.doc_count() == SEGMENTS * PER_SEGMENT - DELETED
        yield found
    ix.close()


def _stems(text: str) -> list[str]:
    return list(dict.fromkeys(token.text for token in analyzer()(text, mode="query")))


def test_each_words_scores_are_whooshs_bm25f_exactly(searcher: Any) -> None:
    ranker = Ranker(searcher)
    for stem in _stems(" ".join(WORDS)):
        term = ranker.term(stem)
        assert term is not None
        matcher = searcher.postings(FIELD, stem, weighting=scoring.BM25F())
        theirs = {}
        while matcher.is_active():
            theirs[matcher.id()] = matcher.score()
            matcher.next()
        assert list(term.ids) == list(theirs), stem  # deleted documents left out alike
        assert {docnum: term.scores[docnum] for docnum in term.ids} == theirs, stem
        assert term.bits.bit_count() == len(theirs)


@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_top_ten_totals_and_scores_are_whooshs_own(searcher: Any, size: int) -> None:
    ranker = Ranker(searcher)
    rng = random.Random(size)
    for _ in range(12):
        stems = _stems(" ".join(rng.sample(WORDS, size)))
        terms = [ranker.term(stem) for stem in stems]
        assert all(terms)
        known = [t for t in terms if t is not None]
        theirs = searcher.search(wq.And([wq.Term(FIELD, s) for s in stems]), limit=10)
        ours = ranker.top(known, 10)
        assert ours == [hit.docnum for hit in theirs], stems
        assert [sum(t.scores[docnum] for t in known) for docnum in ours] == pytest.approx(
            [hit.score for hit in theirs], rel=1e-12
        )
        matched = ranker.live
        for term in known:
            matched &= term.bits
        assert matched.bit_count() == len(theirs), stems


def test_a_tag_knows_which_live_documents_carry_it(searcher: Any) -> None:
    tag = Ranker(searcher).term("walrus-watch", "tags")
    assert tag is not None
    expected = [hit.docnum for hit in searcher.search(wq.Term("tags", "walrus-watch"), limit=None)]
    assert sorted(tag.ids) == sorted(expected)
    assert tag.bits.bit_count() == len(expected) > 0
