"""Site search: hits, highlights, facets, pagination, suggestions, garbage, incremental index."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.site import content, search
from app.site.search import SEARCH
from tests.site.conftest import post


def _results(app: Flask, query: str, page: int = 1, tag: str | None = None) -> search.Results:
    with app.test_request_context():
        content.public(__import__("app").clock.now())
        return search.search(query, page, tag)


def test_hits_are_stemmed_highlighted_and_rank_titles_first(app: Flask) -> None:
    results = _results(app, "ledgers")
    assert results.hits[0].url == "/posts/ledger/"
    assert "<mark>ledger</mark>" in str(results.hits[0].title)
    assert "<mark>ledger</mark>" in str(results.hits[0].snippet)
    granted = _results(app, "permission")
    assert "/posts/why-pull-wins/" in [h.url for h in granted.hits]
    assert "<mark>Permissions</mark>" in str(
        granted.hits[0].snippet
    ) or "<mark>Permission</mark>" in str(granted.hits[0].snippet)


def test_every_word_must_match(app: Flask) -> None:
    assert {h.url for h in _results(app, "ledger consent").hits} == {"/posts/ledger/"}
    assert _results(app, "ledger quiet").total == 0


def test_drafts_scheduled_and_expired_posts_are_not_found(app: Flask) -> None:
    assert _results(app, "zeppelins").total == 0


def test_pages_and_surveys_are_searchable(app: Flask) -> None:
    hits = _results(app, "stickers").hits
    assert [(h.url, h.kind) for h in hits] == [("/surveys/reader-2026/", "survey")]
    assert _results(app, "recommend").hits[0].url == "/surveys/reader-2026/"  # a question
    assert _results(app, "rewards").hits[0].url in {"/about/", "/surveys/reader-2026/"}


def test_tag_facets_count_every_match_and_filter(app: Flask) -> None:
    results = _results(app, "strategy")
    facets = {f.slug: f.count for f in results.facets}
    assert facets["strategy"] == 2 and facets["consent"] == 1
    filtered = _results(app, "strategy", tag="consent")
    assert [h.url for h in filtered.hits] == ["/posts/ledger/"] and filtered.total == 1


def test_results_paginate(app: Flask, content_dir: Path) -> None:
    for number in range(23):
        (content_dir / "posts" / f"walrus-{number}.md").write_text(
            post(f"Walrus note {number}", "The walrus speaks of permission.")
        )
    first = _results(app, "walrus")
    assert first.total == 23 and first.pages == 3 and len(first.hits) == 10
    third = _results(app, "walrus", page=3)
    assert len(third.hits) == 3
    seen = {h.url for p in (1, 2, 3) for h in _results(app, "walrus", page=p).hits}
    assert len(seen) == 23


def test_did_you_mean_when_nothing_matches(app: Flask, client: FlaskClient) -> None:
    results = _results(app, "permisson ledgr")
    assert results.total == 0 and results.suggestion == "permission ledger"
    page = client.get("/search?q=permisson+ledgr").text
    assert 'Did you mean <a href="/search?q=permission%20ledger">permission ledger</a>?' in page


def test_search_page_shows_hits_facets_and_pagination(client: FlaskClient) -> None:
    page = client.get("/search?q=strategy").text
    assert "3 results" in page and 'href="/search?q=strategy&amp;tag=consent"' in page
    assert re.search(r"<mark>[Ss]trategy</mark>", page)
    assert 'value="strategy"' in page


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=300))
def test_any_query_answers_without_an_error(client: FlaskClient, query: str) -> None:
    response = client.get(
        "/search", query_string={"q": query, "tag": query[:20], "page": query[:3]}
    )
    assert response.status_code == 200


def test_syntax_garbage_is_just_words(app: Flask, client: FlaskClient) -> None:
    for query in [
        '"((( ledger',
        "ledger AND OR NOT",
        "*:* ledger",
        "ledger^",
        "{ledger~]",
        "\x00ledger",
        "<b>ledger</b>",
        "ledger*",
        "-ledger",
    ]:
        assert client.get("/search", query_string={"q": query}).status_code == 200
        assert _results(app, query).total >= 1, query
    assert "<script>ledger" not in client.get("/search?q=<script>ledger</script>").text


def test_an_edit_updates_only_its_document(app: Flask, content_dir: Path) -> None:
    _results(app, "anything")
    service = SEARCH.get(app)
    before = service.folder.stamps()
    path = content_dir / "posts" / "quiet-hours.md"
    path.write_text(path.read_text().replace("quiet hours end", "quiet hours end, kangaroo"))
    assert _results(app, "kangaroo").hits[0].url == "/posts/quiet-hours/"
    after = service.folder.stamps()
    changed = {k for k in after if before.get(k) != after[k]}
    assert changed == {"post:quiet-hours"}
    path.unlink()
    assert _results(app, "kangaroo").total == 0
    assert "post:quiet-hours" not in service.folder.stamps()


def test_a_scheduled_post_enters_the_index_when_it_goes_public(app: Flask, clock: object) -> None:
    from datetime import UTC, datetime

    assert _results(app, "zeppelins").total == 0
    clock.set(datetime(2999, 1, 2, tzinfo=UTC))  # type: ignore[attr-defined]
    assert [h.url for h in _results(app, "zeppelins").hits] == ["/posts/future-post/"]


def test_a_rebuild_swaps_in_a_new_index_atomically(app: Flask, runner: object) -> None:
    service = SEARCH.get(app)
    _results(app, "ledger")
    old = service.folder.current_dir()
    result = runner.invoke(args=["content", "index", "--rebuild", "--processes", "1"])  # type: ignore[attr-defined]
    assert result.exit_code == 0, result.output
    new = service.folder.current_dir()
    assert new is not None and new != old
    assert (service.folder.root / "CURRENT").read_text().strip() == new.name
    assert _results(app, "ledger").hits[0].url == "/posts/ledger/"


def test_search_without_an_index_says_so(app: Flask) -> None:
    service = SEARCH.get(app)
    with app.test_request_context():
        results = service.search("ledger")
    assert results.available is False


def test_ranking_is_whooshs_own_bm25f(app: Flask, content_dir: Path) -> None:
    import random

    from whoosh import query as wq

    words = [
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
    ]
    rng = random.Random(5)
    for number in range(40):
        body = " ".join(rng.choice(words) for _ in range(rng.randint(5, 60)))
        (content_dir / "posts" / f"mix-{number}.md").write_text(
            post(f"Mix {rng.choice(words)} {number}", body)
        )
    _results(app, "anything")
    service = SEARCH.get(app)
    with service._lock:
        state = service._searcher()
    assert state is not None
    for size in (1, 2, 3):
        for _ in range(10):
            stems = service.stems(" ".join(rng.sample(words, size)))
            terms = [state.ranker.term(s) for s in stems]
            if any(t is None for t in terms):
                continue
            ours = state.ranker.top([t for t in terms if t is not None], 10)
            theirs = state.searcher.search(wq.And([wq.Term("content", s) for s in stems]), limit=10)
            assert ours == [hit.docnum for hit in theirs], stems


def test_an_index_of_an_older_version_is_rebuilt(app: Flask) -> None:
    _results(app, "ledger")
    service = SEARCH.get(app)
    folder = service.folder.current_dir()
    assert folder is not None
    (folder / "VERSION").write_text("0\n")
    assert _results(app, "ledger").available is False  # noticed at the next content check
    assert _results(app, "ledger").hits[0].url == "/posts/ledger/"
    assert service.folder.current_dir() not in (None, folder)


@pytest.mark.parametrize("query", ["the", "a the of", "The  OF"])
def test_a_query_of_only_common_words_asks_for_a_real_word(
    app: Flask, client: FlaskClient, query: str
) -> None:
    results = _results(app, query)
    assert results.only_common_words and results.total == 0 and results.suggestion is None
    page = client.get("/search", query_string={"q": query}).text
    assert "Type a word that says what you are looking for" in page
    assert "Try fewer" not in page and "Did you mean" not in page


def test_tag_filters_by_topic_instead_of_suggesting_words(app: Flask, client: FlaskClient) -> None:
    alone = _results(app, "tag:consent")
    assert alone.suggestion is None and [t.slug for t in alone.topics] == ["consent"]
    assert [h.url for h in alone.hits] == ["/posts/ledger/"]
    assert _results(app, "ledger").total == 2  # the ledger, and an article linking to it
    assert [h.url for h in _results(app, "tag:consent ledger").hits] == ["/posts/ledger/"]
    assert _results(app, "tag:messaging ledger").total == 0
    assert _results(app, "tag:consent walrus").total == 0
    assert _results(app, "tag:consent walrus").suggestion is None  # nothing near "walrus"
    quoted = _results(app, 'tag:"Permission marketing"')
    assert [h.url for h in quoted.hits] == ["/posts/why-pull-wins/"]
    assert _results(app, "Tag:CONSENT").total == 1
    page = client.get("/search", query_string={"q": "tag:consent"}).text
    assert "1 result about Consent" in page and "aged" not in page and "Did you mean" not in page


def test_a_misspelt_word_beside_a_tag_keeps_the_tag_in_the_suggestion(app: Flask) -> None:
    results = _results(app, "tag:consent ledgr")
    assert results.total == 0 and results.suggestion == "tag:consent ledger"


def test_an_unknown_tag_says_so_and_lists_the_topics(app: Flask, client: FlaskClient) -> None:
    results = _results(app, "tag:gardening ledger")
    assert results.unknown_topics == ("gardening",) and results.total == 0
    assert results.suggestion is None
    names = [t.name for t in results.all_topics]
    assert "Consent" in names and "Permission marketing" in names
    page = client.get("/search", query_string={"q": 'tag:"no such" ledger'}).text
    assert "No topic called &ldquo;no such&rdquo;" in page
    assert 'href="/search?q=tag%3Aconsent"' in page and "Did you mean" not in page
