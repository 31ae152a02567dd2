"""Every save in the web editor is a git commit of the content folder (dulwich, no git binary).

Which repository: the one that holds ``CONTENT_DIR`` (found by walking up from it, as ``git``
does), so a site whose content lives in its own checkout commits there; when there is none, a
new repository is made in ``CONTENT_DIR`` itself on the first save (branch ``main``).

What a commit holds: only the paths that were saved. The tree is HEAD's tree with those paths
replaced, never the index, so whatever a developer has staged in the same checkout stays staged
and out of the commit; the index entry of each committed path is rewritten to match, so
``git status`` is clean for it. The author is the editor, the committer the site.

Concurrency: a file lock in the git folder (``flock``) is held from reading HEAD to moving the
branch, so two saves at once, in threads or processes, both land, one after the other.

Errors::

    ContentGitError        the repository could not be read or written (the file stays saved)
    └── UnknownVersion     no commit of this file has that id
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import stat
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dulwich.errors import NotGitRepository
from dulwich.index import index_entry_from_stat
from dulwich.object_store import commit_tree_changes, tree_lookup_path
from dulwich.objects import Blob, Commit, ObjectID, Tree
from dulwich.refs import HEADREF
from dulwich.repo import Repo

from app.registry import Slot

log = logging.getLogger("pullfirst.site")

COMMIT_ID = re.compile(r"[0-9a-f]{7,40}")
LOCK_NAME = "pullfirst-content.lock"
HISTORY_LIMIT = 200


class ContentGitError(Exception):
    """The content repository could not be read or written."""


class UnknownVersion(ContentGitError):
    """No commit that touches this file has the id asked for (or the id is not hex, 7-40)."""


@dataclass(frozen=True)
class Person:
    """Who wrote (author) or recorded (committer) a commit."""

    name: str
    email: str

    def signature(self) -> bytes:
        clean = [re.sub(r"[<>\r\n\x00]", "", part).strip() for part in (self.name, self.email)]
        return f"{clean[0] or 'Pullfirst'} <{clean[1]}>".encode()


@dataclass(frozen=True)
class Version:
    """One commit that touched a file."""

    id: str
    author: str
    email: str
    when: datetime
    message: str

    @property
    def short(self) -> str:
        return self.id[:10]


def blob_mode(st: os.stat_result) -> int:
    return 0o100755 if st.st_mode & stat.S_IXUSR else 0o100644


def head_of(repo: Repo) -> ObjectID | None:
    try:
        return repo.refs[HEADREF]
    except KeyError:
        return None  # an unborn branch: no commit yet


def tree_of(repo: Repo, commit: ObjectID | None) -> ObjectID:
    if commit is None:
        empty = Tree()
        repo.object_store.add_object(empty)
        return empty.id
    found = repo[commit]
    assert isinstance(found, Commit)
    return ObjectID(found.tree)


@contextmanager
def locked(repo: Repo) -> Iterator[None]:
    """Hold the content lock of ``repo`` (blocks until the other holder is done)."""
    with open(Path(repo.controldir()) / LOCK_NAME, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def write_file(path: Path, data: bytes, mode: int) -> None:
    """Replace ``path`` with ``data`` atomically (temporary file, then ``os.replace``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o755 if mode == 0o100755 else 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class ContentRepo:
    """The git repository of one content folder. Holds no state between calls but paths."""

    def __init__(self, content_dir: Path, enabled: bool = True) -> None:
        self.content_dir = content_dir.resolve()
        self.enabled = enabled

    def open(self, create: bool = False) -> Repo | None:
        """The repository holding the content folder; a new one in it when ``create``."""
        try:
            return Repo.discover(str(self.content_dir))
        except NotGitRepository:
            if not create:
                return None
        try:
            return Repo.init(str(self.content_dir), default_branch=b"main")
        except FileExistsError:  # another process made it a moment ago
            return Repo.discover(str(self.content_dir))

    def relative(self, repo: Repo, path: Path) -> bytes:
        root = Path(repo.path).resolve()
        try:
            return path.resolve().relative_to(root).as_posix().encode()
        except ValueError:
            raise ContentGitError(f"{path} is outside the repository at {root}") from None

    def commit(
        self, paths: Sequence[Path], author: Person, committer: Person, message: str
    ) -> str | None:
        """Commit the current bytes of ``paths`` (a missing file is a deletion) on HEAD, and
        nothing else. Returns the new commit id, or None when they already match HEAD (or
        committing is off). Raises :class:`ContentGitError` when the repository fails."""
        if not self.enabled or not paths:
            return None
        try:
            repo = self.open(create=True)
            assert repo is not None
            with repo, locked(repo):
                return self._commit(repo, paths, author, committer, message)
        except ContentGitError:
            raise
        except Exception as exc:  # dulwich and the file system raise many kinds
            raise ContentGitError(f"{type(exc).__name__}: {exc}") from exc

    def _commit(
        self, repo: Repo, paths: Sequence[Path], author: Person, committer: Person, message: str
    ) -> str | None:
        head = head_of(repo)
        base = tree_of(repo, head)
        changes: list[tuple[bytes, int | None, ObjectID | None]] = []
        index = repo.open_index()
        for path in paths:
            name = self.relative(repo, path)
            try:
                st = os.lstat(path)
                data = path.read_bytes()
            except FileNotFoundError:
                changes.append((name, None, None))
                if name in index:
                    del index[name]
                continue
            blob = Blob.from_string(data)
            repo.object_store.add_object(blob)
            changes.append((name, blob_mode(st), blob.id))
            index[name] = index_entry_from_stat(st, blob.id, blob_mode(st))
        tree = commit_tree_changes(repo.object_store, repo[base], changes)  # type: ignore[arg-type]
        index.write()
        if head is not None and tree == base:
            return None
        commit = Commit()
        commit.tree = tree
        commit.parents = [head] if head is not None else []
        commit.author = author.signature()
        commit.committer = committer.signature()
        commit.author_time = commit.commit_time = int(datetime.now(UTC).timestamp())
        commit.author_timezone = commit.commit_timezone = 0
        commit.encoding = b"UTF-8"
        commit.message = message.strip().encode() + b"\n"
        repo.object_store.add_object(commit)
        moved = (
            repo.refs.set_if_equals(HEADREF, head, commit.id)
            if head is not None
            else repo.refs.add_if_new(HEADREF, commit.id)
        )
        if not moved:  # only a git command outside the lock can get here
            raise ContentGitError("the branch moved while committing; save again")
        return commit.id.decode()

    def history(self, path: Path, limit: int = HISTORY_LIMIT) -> list[Version]:
        """The commits that changed ``path``, newest first (empty without a repository)."""
        repo = self.open()
        if repo is None:
            return []
        with repo:
            head = head_of(repo)
            if head is None:
                return []
            name = self.relative(repo, path)
            versions = []
            for entry in repo.get_walker(include=[head], paths=[name], max_entries=limit):
                commit = entry.commit
                author = commit.author.decode("utf-8", "replace")
                match = re.fullmatch(r"(.*?)\s*<(.*)>", author)
                who, email = (match[1], match[2]) if match else (author, "")
                versions.append(
                    Version(
                        commit.id.decode(),
                        who,
                        email,
                        datetime.fromtimestamp(commit.author_time, UTC),
                        commit.message.decode("utf-8", "replace").strip().split("\n")[0],
                    )
                )
            return versions

    def version(self, path: Path, commit_id: str) -> tuple[Version, str | None]:
        """The commit of ``path``'s history whose id starts with ``commit_id``, and the file's
        text in it (None when that commit deleted it). Raises :class:`UnknownVersion`."""
        if not COMMIT_ID.fullmatch(commit_id):
            raise UnknownVersion(commit_id)
        found = [v for v in self.history(path) if v.id.startswith(commit_id)]
        if len(found) != 1:
            raise UnknownVersion(commit_id)
        return found[0], self.text_at(path, found[0].id)

    def text_at(self, path: Path, commit_id: str) -> str | None:
        repo = self.open()
        if repo is None:
            raise UnknownVersion(commit_id)
        with repo:
            name = self.relative(repo, path)
            try:
                tree = tree_of(repo, ObjectID(commit_id.encode()))
                _, sha = tree_lookup_path(repo.__getitem__, tree, name)
            except KeyError:
                return None
            blob = repo[sha]
            assert isinstance(blob, Blob)
            return blob.data.decode("utf-8-sig", "replace")


CONTENT_GIT = Slot[ContentRepo](
    "content_git", "the git repository of the content folder", set_by="app.site.gitwiring.init_app"
)
