"""Content in git: each save a commit by the editor, only the saved paths, concurrent saves, a
failing repository that never loses the file, ``flask content new``, and two hosts sharing a
bare repository that see each other's edits within seconds."""

from __future__ import annotations

import multiprocessing
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.clock import set_clock
from app.config import SETTINGS_BY_NAME
from app.database.core import make_engine
from app.site.contentgit import CONTENT_GIT, ContentRepo, Person
from app.site.contentsync import CONTENT_SYNC, redact
from tests.conftest import PASSWORD, Clock, _empty_tables, close_app_database, is_postgres
from tests.helpers import csrf_token, sign_in
from tests.site.conftest import FILES, SITE_TOML, write_content

ED = Person("Ed Itor", "ed@example.com")
SITE = Person("Test site", "site@example.com")


def git(cwd: Path, *args: str) -> str:
    """The real git binary: what an operator sees in the repository."""
    return subprocess.run(
        ["git", "-c", "safe.directory=*", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def make_checkout(root: Path) -> Path:
    """A developer's checkout with content/ in it, one commit, ``main`` checked out."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "Dev")
    content = root / "content"
    content.mkdir()
    (content / "site.toml").write_text(SITE_TOML)
    write_content(content, FILES)
    (root / "README.md").write_text("the code\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "Start")
    return content


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    return make_checkout(tmp_path / "checkout")


@pytest.fixture
def app_config(app_config: dict[str, Any], content_dir: Path) -> dict[str, Any]:
    return {
        **app_config,
        "CONTENT_DIR": str(content_dir),
        "CONTENT_RECHECK_SECONDS": 0,
        "CONTENT_GIT": True,
    }


def save_through_editor(client: FlaskClient, kind: str, name: str, old: str, new: str) -> str:
    """Replace ``old`` by ``new`` in the file through the editor's form; returns the page
    the editor lands on."""
    import html
    import re

    url = f"/admin/content/{kind}/{name}"
    page = client.get(url).text
    text = re.search(r"<textarea[^>]*name=\"text\"[^>]*>\r?\n?(.*?)</textarea>", page, re.S)
    digest = re.search(r'name="hash" type="hidden" value="([^"]*)"', page)
    assert text and digest, page
    body = html.unescape(text.group(1))
    assert old in body
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(page),
            "text": body.replace(old, new),
            "hash": digest.group(1),
            "action": "save",
        },
    )
    assert response.status_code == 302, response.text
    return client.get(response.headers["Location"]).text


def test_each_save_is_a_commit_by_the_editor_of_that_file_only(
    editor: FlaskClient, content_dir: Path
) -> None:
    checkout = content_dir.parent
    (checkout / "README.md").write_text("half-done work\n")
    git(checkout, "add", "README.md")  # staged by a developer: must stay out of the commit
    (content_dir / "posts" / "why-pull-wins.md").write_text("unsaved local change\n")

    page = save_through_editor(editor, "post", "ledger", "an event.", "an event, kept forever.")

    assert "Saved." in page and "not recorded" not in page
    log = git(checkout, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%s")
    assert log.strip() == (
        "editor <editor@example.com>|Pullfirst <hello@pullfirst.example>|Edit posts/ledger.md"
    )
    assert git(checkout, "show", "--name-only", "--format=", "HEAD").split() == [
        "content/posts/ledger.md"
    ]
    assert "kept forever" in git(checkout, "show", "HEAD:content/posts/ledger.md")
    status = git(checkout, "status", "--porcelain").splitlines()
    assert sorted(status) == [" M content/posts/why-pull-wins.md", "M  README.md"]
    assert git(checkout, "diff", "--cached", "--name-only").split() == ["README.md"]


def test_an_uploaded_image_is_committed_in_every_width(
    editor: FlaskClient, content_dir: Path
) -> None:
    import io

    from PIL import Image

    raw = io.BytesIO()
    Image.new("RGB", (1400, 700), "teal").save(raw, "PNG")
    page = editor.get("/admin/content/post/ledger").text
    response = editor.post(
        "/admin/content/post/ledger/images",
        data={
            "csrf_token": csrf_token(page),
            "image": (io.BytesIO(raw.getvalue()), "Sea.png"),
            "alt": "The sea",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    checkout = content_dir.parent
    committed = git(checkout, "show", "--name-only", "--format=%s", "HEAD").split("\n")
    assert committed[0].startswith("Add image ")
    files = [f for f in committed[1:] if f]
    on_disk = sorted(f"content/images/{p.name}" for p in (content_dir / "images").iterdir())
    assert len(files) >= 2 and sorted(files) == on_disk
    assert git(checkout, "status", "--porcelain") == ""


def test_a_folder_without_a_repository_gets_one_on_the_first_save(tmp_path: Path) -> None:
    content = tmp_path / "plain" / "content"
    write_content(content, FILES)
    repo = ContentRepo(content)
    assert repo.open() is None or Path(repo.open().path) != content  # type: ignore[union-attr]
    path = content / "posts" / "ledger.md"
    path.write_text(path.read_text() + "\nMore.\n")
    commit = repo.commit([path], ED, SITE, "Edit posts/ledger.md")
    assert commit is not None
    assert (content / ".git").is_dir()
    assert git(content, "log", "--format=%H %an", "main").split() == [commit, "Ed", "Itor"]
    assert git(content, "show", "--name-only", "--format=", "HEAD").split() == ["posts/ledger.md"]
    # The same bytes again: nothing to commit.
    assert repo.commit([path], ED, SITE, "Edit posts/ledger.md") is None


def _commit_in_thread(repo: ContentRepo, path: Path, start: threading.Barrier) -> None:
    start.wait()
    repo.commit([path], ED, SITE, f"Edit {path.name}")


def _commit_in_process(content: str, name: str) -> None:
    path = Path(content) / "posts" / name
    ContentRepo(Path(content)).commit([path], ED, SITE, f"Edit {name}")


def test_saves_at_the_same_moment_all_land(content_dir: Path) -> None:
    repo = ContentRepo(content_dir)
    paths = []
    for number in range(6):
        path = content_dir / "posts" / f"thread-{number}.md"
        path.write_text(f"---\ntitle: Thread {number}\n---\nBody.\n")
        paths.append(path)
    start = threading.Barrier(len(paths))
    threads = [threading.Thread(target=_commit_in_thread, args=(repo, p, start)) for p in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    names = []
    for number in range(4):
        name = f"process-{number}.md"
        (content_dir / "posts" / name).write_text(f"---\ntitle: P{number}\n---\nBody.\n")
        names.append(name)
    context = multiprocessing.get_context("fork")
    processes = [
        context.Process(target=_commit_in_process, args=(str(content_dir), n)) for n in names
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(30)
        assert process.exitcode == 0
    checkout = content_dir.parent
    subjects = git(checkout, "log", "--format=%s").splitlines()
    expected = {f"Edit thread-{n}.md" for n in range(6)} | {f"Edit {n}" for n in names}
    assert expected <= set(subjects)
    assert len(subjects) == len(expected) + 1  # plus "Start": every save is its own commit
    assert git(checkout, "status", "--porcelain") == ""


def test_a_failing_repository_never_loses_the_saved_file(
    editor: FlaskClient, content_dir: Path
) -> None:
    checkout = content_dir.parent
    index = checkout / ".git" / "index"
    index.unlink()
    index.mkdir()  # the index cannot be read: the commit fails
    page = save_through_editor(editor, "post", "ledger", "an event.", "an event, saved anyway.")
    assert "Saved, but not recorded in the history" in page
    assert "saved anyway" in (content_dir / "posts" / "ledger.md").read_text()
    assert "saved anyway" in editor.get("/posts/ledger/").text


def test_flask_content_new_commits_the_new_draft(app: Flask, content_dir: Path) -> None:
    result = app.test_cli_runner().invoke(args=["content", "new", "Rewards people use"])
    assert result.exit_code == 0, result.output
    checkout = content_dir.parent
    assert git(checkout, "log", "-1", "--format=%s|%an").strip() == (
        "Create posts/rewards-people-use.md|Pullfirst"
    )
    assert git(checkout, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    "value",
    [
        "/srv/content.git",
        "file:///srv/content.git",
        "ssh://git@example.com/site/content.git",
        "git@example.com:site/content.git",
        "https://token:secret@example.com/site/content.git",
    ],
)
def test_remote_addresses_that_are_accepted(value: str) -> None:
    assert SETTINGS_BY_NAME["CONTENT_GIT_REMOTE"].parse(value) == value


@pytest.mark.parametrize(
    "value",
    ["ext::sh -c touch% /tmp/x", "-uhack", "content.git", "ftp://example.com/x", "a\nb"],
)
def test_remote_addresses_that_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        SETTINGS_BY_NAME["CONTENT_GIT_REMOTE"].parse(value)


def test_credentials_never_reach_the_log() -> None:
    assert redact("https://token:secret@example.com/c.git") == "https://***@example.com/c.git"
    assert redact("/srv/content.git") == "/srv/content.git"


# --- two hosts, one bare repository ---------------------------------------------------------


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A bare repository holding the content, as an operator sets one up."""
    seed = tmp_path / "seed"
    seed.mkdir()
    git(seed, "init", "-q", "-b", "main")
    (seed / "site.toml").write_text(SITE_TOML)
    write_content(seed, FILES)
    git(seed, "add", ".")
    git(seed, "-c", "user.name=Ops", "-c", "user.email=ops@example.com", "commit", "-qm", "Go")
    bare = tmp_path / "shared.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(bare))
    shutil.rmtree(seed)
    return bare


def _host(
    name: str,
    tmp_path: Path,
    bare: Path,
    app_config: dict[str, Any],
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> Flask:
    content = tmp_path / name / "content"
    content.parent.mkdir()
    git(content.parent, "clone", "-q", str(bare), "content")
    monkeypatch.setenv("PULLFIRST_INSTANCE_PATH", str(tmp_path / name / "instance"))
    app = create_app(
        {
            **app_config,
            "CONTENT_DIR": str(content),
            "CONTENT_GIT_REMOTE": f"file://{bare}",
            "CONTENT_GIT_PULL_SECONDS": 1,
        }
    )
    set_clock(app, clock)
    return app


@pytest.fixture
def hosts(
    tmp_path: Path,
    shared: Path,
    app_config: dict[str, Any],
    clock: Clock,
    clean_environment: None,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Flask, Flask]]:
    if is_postgres():  # both hosts share the test database: start it empty, as `app` does
        engine = make_engine(app_config["DATABASE_URL"])
        _empty_tables(engine)
        engine.dispose()
    first = _host("a", tmp_path, shared, app_config, clock, monkeypatch)
    second = _host("b", tmp_path, shared, app_config, clock, monkeypatch)
    with first.app_context():
        from app.accounts import members
        from app.extensions import db

        members.create_member(
            "editor@example.com", PASSWORD, now=clock(), role="editor", verified=True
        )
        db.session.commit()
    yield first, second
    for app in (first, second):
        if CONTENT_SYNC.key in app.extensions:
            CONTENT_SYNC.get(app).stop()
        close_app_database(app)


def _wait_for(check: Any, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_an_edit_on_one_host_shows_on_the_other_within_seconds(
    hosts: tuple[Flask, Flask], shared: Path, tmp_path: Path
) -> None:
    first, second = hosts
    reader = second.test_client()
    assert "kept forever" not in reader.get("/posts/ledger/").text  # B's pull loop starts
    writer = first.test_client()
    sign_in(writer, "editor@example.com", PASSWORD)
    page = save_through_editor(writer, "post", "ledger", "an event.", "an event, kept forever.")
    assert "not yet shared" not in page
    assert git(shared, "log", "-1", "--format=%s", "main").strip() == "Edit posts/ledger.md"
    assert _wait_for(lambda: "kept forever" in reader.get("/posts/ledger/").text)
    b_content = tmp_path / "b" / "content"
    assert git(b_content, "status", "--porcelain") == ""
    assert git(b_content, "log", "-1", "--format=%an", "HEAD").strip() == "editor"


def test_edits_of_different_files_on_both_hosts_are_merged(
    hosts: tuple[Flask, Flask], shared: Path, tmp_path: Path
) -> None:
    first, second = hosts
    a, b = tmp_path / "a" / "content", tmp_path / "b" / "content"
    (a / "posts" / "ledger.md").write_text(FILES["posts/ledger.md"] + "\nFrom A.\n")
    (b / "posts" / "why-pull-wins.md").write_text(FILES["posts/why-pull-wins.md"] + "\nFrom B.\n")
    with first.app_context():
        CONTENT_GIT.get().commit([a / "posts" / "ledger.md"], ED, SITE, "A")
        CONTENT_SYNC.get().sync()
    with second.app_context():
        CONTENT_GIT.get().commit([b / "posts" / "why-pull-wins.md"], ED, SITE, "B")
        CONTENT_SYNC.get().sync()  # the push is refused, so B pulls, merges and pushes
    with first.app_context():
        CONTENT_SYNC.get().sync()
    for content in (a, b):
        assert "From A." in (content / "posts" / "ledger.md").read_text()
        assert "From B." in (content / "posts" / "why-pull-wins.md").read_text()
        assert git(content, "status", "--porcelain") == ""
    assert (
        git(a, "rev-parse", "HEAD")
        == git(b, "rev-parse", "HEAD")
        == git(shared, "rev-parse", "main")
    )


def test_the_same_file_edited_on_both_hosts_keeps_both_texts(
    hosts: tuple[Flask, Flask], shared: Path, tmp_path: Path
) -> None:
    first, second = hosts
    a, b = tmp_path / "a" / "content", tmp_path / "b" / "content"
    (a / "posts" / "ledger.md").write_text(FILES["posts/ledger.md"] + "\nA's ending.\n")
    (b / "posts" / "ledger.md").write_text(FILES["posts/ledger.md"] + "\nB's ending.\n")
    with first.app_context():
        CONTENT_GIT.get().commit([a / "posts" / "ledger.md"], ED, SITE, "A")
        CONTENT_SYNC.get().sync()
    with second.app_context():
        CONTENT_GIT.get().commit([b / "posts" / "ledger.md"], ED, SITE, "B")
        CONTENT_SYNC.get().sync()
    theirs = git(a, "rev-parse", "HEAD").strip()
    assert "B's ending." in (b / "posts" / "ledger.md").read_text()  # B kept its own file
    assert "A's ending." in git(b, "show", f"{theirs}:posts/ledger.md")  # A's text is kept
    assert git(shared, "rev-parse", "main") == git(b, "rev-parse", "HEAD")
    editor = second.test_client()
    sign_in(editor, "editor@example.com", PASSWORD)
    page = editor.get("/admin/content/post/ledger").text
    assert "Another server saved a different version of this file" in page
    assert f"/admin/content/post/ledger/history/{theirs}" in page
    diff = editor.get(f"/admin/content/post/ledger/history/{theirs}").text
    assert "A&#39;s ending." in diff and "B&#39;s ending." in diff


def test_a_push_refused_because_the_remote_moved_pulls_and_tries_again(
    hosts: tuple[Flask, Flask], shared: Path, tmp_path: Path
) -> None:
    from dulwich.client import get_transport_and_path
    from dulwich.objects import ObjectID
    from dulwich.refs import Ref

    from app.site.contentsync import RemoteMoved

    first, second = hosts
    a, b = tmp_path / "a" / "content", tmp_path / "b" / "content"
    start = git(shared, "rev-parse", "main").strip()
    (b / "pages").mkdir(exist_ok=True)
    (b / "pages" / "b.md").write_text("---\ntitle: B\n---\nB.\n")
    with second.app_context():
        ours = CONTENT_GIT.get().commit([b / "pages" / "b.md"], ED, SITE, "B")
    (a / "pages").mkdir(exist_ok=True)
    (a / "pages" / "a.md").write_text("---\ntitle: A\n---\nA.\n")
    with first.app_context():
        CONTENT_GIT.get().commit([a / "pages" / "a.md"], ED, SITE, "A")
        CONTENT_SYNC.get().sync()  # the remote moves after B last looked
    assert ours is not None
    sync = CONTENT_SYNC.get(second)
    repo = sync.repo.open()
    assert repo is not None
    client, path = get_transport_and_path(sync.remote)
    with repo, pytest.raises(RemoteMoved):
        sync._push(
            repo,
            client,
            path,
            Ref(b"refs/heads/main"),
            ObjectID(start.encode()),
            ObjectID(ours.encode()),
        )
    assert git(shared, "log", "-1", "--format=%s", "main").strip() == "A"  # nothing overwritten
    with second.app_context():
        CONTENT_SYNC.get().sync()  # fetches, merges the two files and pushes
    assert (b / "pages" / "a.md").is_file()
    assert git(shared, "show", "main:pages/b.md").strip().endswith("B.")
    assert git(shared, "show", "main:pages/a.md").strip().endswith("A.")


def _loop_started_in_child(sync: Any, answer: Any) -> None:
    sync.ensure_running()
    answer.put(sync._thread is not None and sync._thread.is_alive())
    sync.stop()


def test_the_pull_loop_starts_again_in_a_forked_process(hosts: tuple[Flask, Flask]) -> None:
    sync = CONTENT_SYNC.get(hosts[0])
    sync.ensure_running()
    parent_thread = sync._thread
    context = multiprocessing.get_context("fork")
    answer = context.Queue()
    child = context.Process(target=_loop_started_in_child, args=(sync, answer))
    child.start()
    assert answer.get(timeout=20) is True
    child.join(20)
    assert child.exitcode == 0
    assert sync._thread is parent_thread and parent_thread is not None and parent_thread.is_alive()
