"""The render cache and change detection: start-ups that find nothing new render nothing."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.site.cache import RenderCache
from app.site.library import Library
from tests.site.conftest import post

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _library(content_dir: Path, cache_file: Path) -> Library:
    return Library(content_dir, RenderCache(cache_file), recheck_seconds=0)


def test_a_start_where_nothing_changed_renders_nothing(content_dir: Path, tmp_path: Path) -> None:
    cache_file = tmp_path / "cache.sqlite3"
    first = _library(content_dir, cache_file)
    snapshot = first.current()
    assert first.last_rendered == 9  # every post, page and survey file once
    second = _library(content_dir, cache_file)
    again = second.current()
    assert second.last_rendered == 0
    assert set(again.posts) == set(snapshot.posts)
    assert (
        second.rendered(again.posts["ledger"]).html == first.rendered(snapshot.posts["ledger"]).html
    )


def test_the_cache_is_keyed_by_content_not_by_name(content_dir: Path, tmp_path: Path) -> None:
    cache_file = tmp_path / "cache.sqlite3"
    _library(content_dir, cache_file).current()
    source = content_dir / "posts" / "quiet-hours.md"
    (content_dir / "posts" / "copy-of-quiet-hours.md").write_bytes(source.read_bytes())
    os.utime(source, ns=(1, 1))  # touched but unchanged
    library = _library(content_dir, cache_file)
    library.current()
    assert library.last_rendered == 0


def test_only_changed_files_are_rendered_again(content_dir: Path, tmp_path: Path) -> None:
    library = _library(content_dir, tmp_path / "cache.sqlite3")
    library.current()
    before = library.last_rendered
    (content_dir / "posts" / "ledger.md").write_text(post("Keep a consent ledger", "New."))
    snapshot = library.current()
    assert library.last_rendered == before + 1
    assert (
        "New."
        in library.rendered(
            snapshot.posts["keep-a-consent-ledger"]
            if "keep-a-consent-ledger" in snapshot.posts
            else snapshot.posts["ledger"]
        ).html
    )


def test_checks_wait_for_the_interval(content_dir: Path, tmp_path: Path) -> None:
    ticks = [0.0]
    library = Library(
        content_dir, RenderCache(tmp_path / "c.sqlite3"), recheck_seconds=1, clock=lambda: ticks[0]
    )
    assert "quiet-hours" in library.current().posts
    (content_dir / "posts" / "quiet-hours.md").unlink()
    ticks[0] = 0.5
    assert "quiet-hours" in library.current().posts  # not checked yet
    ticks[0] = 1.0
    assert "quiet-hours" not in library.current().posts


def test_public_posts_api_gives_typed_pages_with_front_matter(
    content_dir: Path, tmp_path: Path
) -> None:
    (content_dir / "posts" / "notify-me.md").write_text(
        post("Notify me", notify="newsletter", date="2026-02-02")
    )
    snapshot = _library(content_dir, tmp_path / "c.sqlite3").current()
    public = snapshot.public(NOW).posts
    assert [p.slug for p in public][:2] == ["notify-me", "quiet-hours"]
    notify = public[0]
    assert notify.meta.notify == "newsletter"
    assert notify.published_at == datetime(2026, 2, 2, tzinfo=UTC)
    assert notify.url == "/posts/notify-me/"


def test_the_watch_says_when_a_folder_may_have_changed(tmp_path: Path) -> None:
    from app.site.watch import FolderWatch

    folder = tmp_path / "posts"
    folder.mkdir()
    (folder / "a.md").write_text("one")
    ticks = [0.0]
    watch = FolderWatch([folder], clock=lambda: ticks[0])
    assert watch.changed() is True  # the first check always scans
    assert watch.changed() is (not watch.native)
    (folder / "a.md").write_text("two")  # an edit in place
    assert watch.changed() is True
    assert watch.changed() is (not watch.native)
    (folder / "b.md").write_text("new")
    os.replace(folder / "b.md", folder / "c.md")  # an atomic save
    assert watch.changed() is True
    ticks[0] = 61.0
    assert watch.changed() is True  # the safety scan, whatever the kernel said


def test_the_demo_content_loads_without_skipping_a_file(tmp_path: Path) -> None:
    from tests.conftest import REPO

    snapshot = _library(REPO / "content", tmp_path / "cache.sqlite3").current()
    assert snapshot.problems == ()
    assert len(snapshot.posts) >= 12 and {"about", "privacy"} <= set(snapshot.pages)
    for page in snapshot.all_pages:
        assert page.description and len(page.description) <= 160, page.path
        assert len(page.title) <= 60, page.path


def test_an_edit_after_a_quiet_spell_shows_at_once_when_the_kernel_watches(
    content_dir: Path, tmp_path: Path
) -> None:
    ticks = [0.0]
    library = Library(
        content_dir, RenderCache(tmp_path / "c.sqlite3"), recheck_seconds=1, clock=lambda: ticks[0]
    )
    assert "quiet-hours" in library.current().posts
    ticks[0] = 5.0
    library.current()  # the watch starts (and scans once)
    if not library._watch.native:
        pytest.skip("no inotify here: edits wait for the interval")
    ticks[0] = 10.0
    library.current()  # a check that finds nothing new, and scans nothing
    assert not library._watch.pending()
    (content_dir / "posts" / "quiet-hours.md").unlink()
    assert library._watch.pending()
    ticks[0] = 10.2  # within the interval of the last check, long after the last scan
    assert "quiet-hours" not in library.current().posts
    (content_dir / "posts" / "ledger.md").unlink()
    ticks[0] = 10.5  # a second change within the interval of that scan waits for it
    assert "ledger" in library.current().posts
    ticks[0] = 11.2
    assert "ledger" not in library.current().posts
