"""A file's history in the editor: every save listed (when, who, what), the difference between
a version and the file now, and "restore this version" as a new, checked save."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.site.contentgit import ContentRepo, Person
from tests.conftest import PASSWORD
from tests.helpers import csrf_token, sign_in
from tests.site.conftest import FILES, SITE_TOML, write_content
from tests.site.test_contentgit import save_through_editor

HISTORY = "/admin/content/post/ledger/history"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    root.mkdir()
    (root / "site.toml").write_text(SITE_TOML)
    write_content(root, FILES)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(
        root,
        "-c",
        "user.name=Maya Lind",
        "-c",
        "user.email=maya@example.com",
        "commit",
        "-q",
        "-m",
        "Start the ledger post",
        "--date=2026-12-04T09:30:00Z",
    )
    return root


@pytest.fixture
def app_config(app_config: dict[str, Any], content_dir: Path) -> dict[str, Any]:
    return {
        **app_config,
        "CONTENT_DIR": str(content_dir),
        "CONTENT_RECHECK_SECONDS": 0,
        "CONTENT_GIT": True,
    }


def versions(client: FlaskClient) -> list[str]:
    return re.findall(
        r"/admin/content/post/ledger/history/([0-9a-f]{40})", client.get(HISTORY).text
    )


def test_the_history_lists_every_save_newest_first(editor: FlaskClient) -> None:
    save_through_editor(editor, "post", "ledger", "an event.", "an event, <kept> forever.")
    page = editor.get(HISTORY).text
    assert len(versions(editor)) == 2
    newest, oldest = page.index("Edit posts/ledger.md"), page.index("Start the ledger post")
    assert newest < oldest
    assert "4 December 2026, 09:30" in page  # in the reader's zone (UTC for this editor)
    assert "Maya Lind" in page and "editor@example.com" in page
    assert (
        'href="/admin/content/post/ledger/history"' in editor.get("/admin/content/post/ledger").text
    )


def test_a_version_shows_its_difference_with_the_file_now_escaped(
    editor: FlaskClient,
) -> None:
    save_through_editor(editor, "post", "ledger", "an event.", "an event, <b>kept</b> forever.")
    old = versions(editor)[1]
    page = editor.get(f"{HISTORY}/{old}").text
    assert re.search(r'class="diff-line diff-add">\+[^<]*&lt;b&gt;kept&lt;/b&gt; forever', page)
    assert re.search(r'class="diff-line diff-remove">-[^<]*an event\.<', page)
    assert "<b>kept</b>" not in page
    assert "Restore this version" in page
    short = editor.get(f"{HISTORY}/{old[:7]}")
    assert short.status_code == 200 and "Start the ledger post" in short.text


def test_restore_saves_the_old_text_as_a_new_commit(editor: FlaskClient, content_dir: Path) -> None:
    path = content_dir / "posts" / "ledger.md"
    original = path.read_text()
    save_through_editor(editor, "post", "ledger", "an event.", "an event, changed.")
    old = versions(editor)[1]
    page = editor.get(f"{HISTORY}/{old}").text
    response = editor.post(f"{HISTORY}/{old}/restore", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/content/post/ledger"
    assert path.read_text() == original
    assert len(versions(editor)) == 3  # nothing rewritten: a new version on top
    assert git(content_dir, "log", "-1", "--format=%s|%ae").strip() == (
        f"Restore posts/ledger.md to {old[:10]}|editor@example.com"
    )
    assert git(content_dir, "status", "--porcelain") == ""
    assert "an event, changed." not in editor.get("/posts/ledger/").text


def test_a_version_that_fails_the_checks_is_not_restored(
    editor: FlaskClient, content_dir: Path
) -> None:
    path = content_dir / "posts" / "ledger.md"
    good = path.read_text()
    path.write_text("---\ntitle: [\n---\nBroken.\n")  # committed by hand, outside the editor
    ContentRepo(content_dir).commit([path], Person("Dev", "dev@example.com"), Person("S", ""), "b")
    path.write_text(good)
    ContentRepo(content_dir).commit([path], Person("Dev", "dev@example.com"), Person("S", ""), "g")
    broken = versions(editor)[1]
    page = editor.get(f"{HISTORY}/{broken}").text
    response = editor.post(f"{HISTORY}/{broken}/restore", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 400
    assert "Not restored" in response.text and "line 3: invalid YAML" in response.text
    assert path.read_text() == good
    assert len(versions(editor)) == 3


def test_restore_needs_the_csrf_token(editor: FlaskClient, content_dir: Path) -> None:
    old = versions(editor)[0]
    response = editor.post(f"{HISTORY}/{old}/restore", data={})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "commit",
    ["zzzzzzz", "abc12", "A" * 41, "0" * 40, "deadbee", "g123456", "HEAD", "main"],
)
def test_commit_ids_that_are_not_a_version_of_the_file_are_not_found(
    editor: FlaskClient, commit: str
) -> None:
    assert editor.get(f"{HISTORY}/{commit}").status_code == 404
    page = editor.get(HISTORY).text
    assert (
        editor.post(
            f"{HISTORY}/{commit}/restore", data={"csrf_token": csrf_token(page)}
        ).status_code
        == 404
    )


def test_a_version_of_another_file_is_not_found_here(
    editor: FlaskClient, content_dir: Path
) -> None:
    other = content_dir / "posts" / "why-pull-wins.md"
    other.write_text(other.read_text() + "\nMore.\n")
    commit = ContentRepo(content_dir).commit([other], Person("D", "d@x.org"), Person("S", ""), "o")
    assert commit is not None
    assert editor.get(f"{HISTORY}/{commit}").status_code == 404
    assert editor.get(f"/admin/content/post/why-pull-wins/history/{commit}").status_code == 200


def test_unknown_files_and_kinds_are_not_found(editor: FlaskClient) -> None:
    assert editor.get("/admin/content/post/no-such-post/history").status_code == 404
    assert editor.get("/admin/content/secret/ledger/history").status_code == 404
    assert editor.get("/admin/content/post/..%2Fsite/history").status_code == 404


def test_only_editors_see_the_history(app: Flask, client: FlaskClient, member: Any) -> None:
    old = (
        ContentRepo(Path(app.config["CONTENT_DIR"]))
        .history(Path(app.config["CONTENT_DIR"]) / "posts" / "ledger.md")[0]
        .id
    )
    for url in (HISTORY, f"{HISTORY}/{old}"):
        assert client.get(url).status_code == 302  # to the sign-in page
    assert client.post(f"{HISTORY}/{old}/restore").status_code in (302, 400)
    sign_in(client, "reader@example.com", PASSWORD)
    for url in (HISTORY, f"{HISTORY}/{old}"):
        assert client.get(url).status_code == 403
    page = client.get("/me/permissions").text
    token = csrf_token(page) if 'name="csrf_token"' in page else ""
    assert client.post(f"{HISTORY}/{old}/restore", data={"csrf_token": token}).status_code == 403


def test_versions_too_long_to_compare_say_so_and_can_still_be_restored(
    editor: FlaskClient, content_dir: Path
) -> None:
    path = content_dir / "posts" / "ledger.md"
    path.write_text(path.read_text() + "\n".join(f"Line {n}." for n in range(9000)) + "\n")
    first = versions(editor)[0]
    page = editor.get(f"{HISTORY}/{first}").text
    assert "too long to compare here" in page and "Restore this version" in page
    assert editor.get(f"{HISTORY}/{first[:12]}").status_code == 200


def test_a_version_equal_to_the_file_now_says_so(editor: FlaskClient) -> None:
    page = editor.get(f"{HISTORY}/{versions(editor)[0]}").text
    assert "This version is the same as the file now." in page
    assert "Restore this version" not in page
