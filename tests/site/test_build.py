"""The cold build (``content index --rebuild``): rendering on every core with progress, and the
search index written on every core with the results one writer would give."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import fields

from app.site import build, segments
from app.site.build import progress_report
from app.site.cache import RenderCache
from app.site.search import SearchService
from app.site.searchindex import SECTION, ContentField, Document, analyzer
from tests.site.conftest import post

WORDS = [
    "permission",
    "consent",
    "reader",
    "ledger",
    "sticker",
    "quiet",
    "hours",
    "campaign",
    "promise",
    "scope",
    "newsletter",
    "telegram",
    "signal",
    "kiosk",
    "chart",
    "cooldown",
    "airline",
    "salami",
]


def _documents(count: int) -> list[Document]:
    rng = random.Random(4)
    found = []
    for number in range(count):
        # Short texts from a small vocabulary: many documents score exactly alike.
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(3, 40)))
        tags = (("consent", "Consent"),) if number % 3 == 0 else ()
        found.append(
            Document(
                f"post:p{number}",
                f"h{number}",
                "post",
                f"/posts/p{number}/",
                f"Title {number}",
                f"About {WORDS[number % len(WORDS)]}",
                text,
                tags,
                "2026-01-01",
            )
        )
    return found


def _answers(root: Path) -> list[tuple[object, ...]]:
    service = SearchService(root, recheck_seconds=0)
    answers: list[tuple[object, ...]] = []
    for query in [*WORDS, "consent reader", "quiet hours promise", "permision"]:
        for page in (1, 2):
            results = service.search(query, page)
            answers.append(
                (
                    query,
                    page,
                    results.total,
                    [h.url for h in results.hits],
                    [(f.slug, f.count) for f in results.facets],
                    results.suggestion,
                )
            )
        answers.append((query, "tag", [h.url for h in service.search(query, 1, "consent").hits]))
    return answers


def test_an_index_written_on_several_cores_answers_as_one_writer_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(segments, "MIN_PER_PROCESS", 10)
    documents = _documents(240)
    one = SearchService(tmp_path / "one", 0)
    one.folder.rebuild(documents, procs=1)
    three = SearchService(tmp_path / "three", 0)
    seen: list[int] = []
    folder = three.folder.rebuild(documents, procs=3, progress=seen.append)
    assert len(list(folder.glob("*.seg"))) == 3  # written in parallel: one segment per process
    assert sum(seen) == len(documents)
    assert _answers(tmp_path / "one") == _answers(tmp_path / "three")
    assert three.folder.stamps() == {d.key: d.hash for d in documents}
    assert not list(folder.glob("*.tmp"))


def test_a_failing_worker_leaves_no_generation_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(segments, "MIN_PER_PROCESS", 10)
    service = SearchService(tmp_path / "search", 0)
    service.folder.rebuild(_documents(30), procs=1)
    before = service.folder.current_dir()
    broken = [
        *_documents(40),
        Document("post:bad", "h", "post", "/bad/", "Bad", "", "x", (("a", object()),)),
    ]  # type: ignore[arg-type]
    with pytest.raises(Exception):  # noqa: B017 - whatever the worker raised
        service.folder.rebuild(broken, procs=2)
    assert service.folder.current_dir() == before
    assert [p.name for p in (tmp_path / "search").glob("gen-*")] == [before.name]  # type: ignore[union-attr]


@settings(max_examples=150, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("aAbeéßﬁ1. '’\n-_" + SECTION), max_size=120)
    | st.lists(
        st.sampled_from([*WORDS, "the", "a", "I", "x.y", "3.14", "Straße", SECTION]), max_size=40
    ).map(" ".join)
)
def test_the_content_field_indexes_what_its_analyzer_finds(value: str) -> None:
    fast = ContentField(analyzer=analyzer(), phrase=False)
    plain = fields.TEXT(analyzer=analyzer(), phrase=False)
    assert sorted(fast.index(value)) == sorted(plain.index(value))


def test_progress_on_a_log_is_plain_lines() -> None:
    out = io.StringIO()
    with progress_report("rendering on 2 cores", 10_000, stream=out, every_seconds=0) as step:
        step(4_000)
        step(6_000)
    assert out.getvalue().splitlines() == [
        "rendering on 2 cores: 4,000/10,000",
        "rendering on 2 cores: 10,000/10,000",
        "rendering on 2 cores: 10,000/10,000",
    ]


def test_prerender_fills_the_cache_and_reports_progress(content_dir: Path, tmp_path: Path) -> None:
    (content_dir / "posts" / "broken.md").write_text(post("Broken", date="2026-13-45"))
    cache = RenderCache(tmp_path / "cache.sqlite3")
    seen: list[int] = []
    rendered = build.prerender(content_dir, cache, processes=2, progress=seen.append)
    files = len(list(content_dir.rglob("*.md")))
    assert rendered == files and sum(seen) == files
    seen.clear()
    assert build.prerender(content_dir, cache, processes=2, progress=seen.append) == 0
    assert sum(seen) == files  # known files count as done at once


def test_rebuild_takes_jobs_and_names_each_bad_file_with_its_line(
    runner: FlaskCliRunner, content_dir: Path
) -> None:
    (content_dir / "posts" / "broken.md").write_text("---\ntitle: Fine\ndate: someday\n---\n")
    result = runner.invoke(args=["content", "index", "--rebuild", "--jobs", "2"])
    assert result.exit_code == 0, result.output
    assert f"{content_dir / 'posts' / 'broken.md'}:3: " in result.output
    assert "the new index is in use" in result.output


def test_a_process_with_threads_writes_the_index_from_a_fork_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    monkeypatch.setattr(segments, "MIN_PER_PROCESS", 10)
    documents = _documents(60)
    stop = threading.Event()
    busy = threading.Thread(target=stop.wait, daemon=True)  # as in a web process
    busy.start()
    try:
        folder = SearchService(tmp_path / "served", 0).folder.rebuild(documents, procs=2)
    finally:
        stop.set()
    assert len(list(folder.glob("*.seg"))) == 2
    SearchService(tmp_path / "one", 0).folder.rebuild(documents, procs=1)
    assert _answers(tmp_path / "served") == _answers(tmp_path / "one")
