"""Sharing the content repository through a remote (``CONTENT_GIT_REMOTE``): every host sees an
edit within seconds.

:meth:`ContentSync.sync` fetches the branch from the remote, brings it in, and pushes what is
only here. It runs after each commit and, in every web process, in a background thread every
``CONTENT_GIT_PULL_SECONDS`` (started on the first request of each process, again after a
fork, like :mod:`app.site.watch`). Bringing the remote in:

- the remote is ahead: the working tree is fast-forwarded (files written atomically, the index
  kept clean); a file changed here and not committed is never overwritten: the pull waits;
- both moved on different files: a merge commit of the two;
- both changed the same file: the merge keeps this host's file, the other text stays in the
  history (a parent of the merge) and the problem is recorded in ``pullfirst-conflicts.json``
  in the git folder, shown in the editor of that file.

A push rejected because the remote moved meanwhile fetches and tries again (three times).
With a remote, the repository must be the content folder itself (a repository of content only),
so a pull never touches code. Credentials in remote URLs are never logged.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dulwich.client import GitClient, get_transport_and_path
from dulwich.graph import can_fast_forward, find_merge_base
from dulwich.index import index_entry_from_stat
from dulwich.object_store import commit_tree_changes
from dulwich.objects import Blob, Commit, ObjectID
from dulwich.pack import UnpackedObject
from dulwich.refs import HEADREF, Ref
from dulwich.repo import Repo

from app.registry import Slot
from app.site.contentgit import (
    ContentGitError,
    ContentRepo,
    Person,
    blob_mode,
    head_of,
    locked,
    tree_of,
    write_file,
)

log = logging.getLogger("pullfirst.site")

CONFLICTS_NAME = "pullfirst-conflicts.json"
PUSH_TRIES = 3
KEPT_CONFLICTS = 50

Change = tuple[bytes, int | None, ObjectID | None]


class RemoteMoved(ContentGitError):
    """The remote branch moved after we fetched it."""


def redact(url: str) -> str:
    """``url`` without the password or token it may carry (for logs and pages)."""
    return re.sub(r"(?<=://)[^/@]*@", "***@", url)


@dataclass(frozen=True)
class SetAside:
    """Another host's version of ``path`` that was kept in the history, not in the file."""

    path: str  # relative to the content folder, such as posts/x.md
    commit: str  # the other host's commit that holds its text
    at: str  # when it was set aside, ISO 8601 UTC


class ContentSync:
    """Keeps one content repository and ``remote`` in step (see the module docstring)."""

    def __init__(self, repo: ContentRepo, remote: str, every: float, site: Person) -> None:
        self.repo, self.remote, self.every, self.site = repo, remote, every, site
        self._pid = -1
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # --- the background loop ------------------------------------------------------------
    def ensure_running(self) -> None:
        """Start this process's pull loop unless it runs already (a fork starts a new one)."""
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        self._pid = os.getpid()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="content-pull", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._pid == os.getpid():
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync()
            except Exception as exc:  # the loop must outlive a network or disk problem
                log.warning("content pull from %s failed: %s", redact(self.remote), exc)
            self._stop.wait(self.every)

    # --- one round ----------------------------------------------------------------------
    def sync(self) -> None:
        """Fetch, bring the remote in, push; raises :class:`ContentGitError` on failure."""
        repo = self.repo.open(create=True)
        assert repo is not None
        with repo:
            if Path(repo.path).resolve() != self.repo.content_dir:
                raise ContentGitError(
                    "CONTENT_GIT_REMOTE needs CONTENT_DIR to be the top of its own repository"
                )
            for _ in range(PUSH_TRIES):
                try:
                    self._round(repo)
                    return
                except RemoteMoved:
                    continue
            raise ContentGitError("the remote kept moving; will try again")

    def _round(self, repo: Repo) -> None:
        branch = self._branch(repo)
        client, path = get_transport_and_path(self.remote)

        def wants(refs: Mapping[Ref, ObjectID], depth: int | None = None) -> list[ObjectID]:
            sha = refs.get(branch)
            return [sha] if sha is not None and sha not in repo.object_store else []

        result = client.fetch(path, repo, determine_wants=wants)
        theirs = (result.refs or {}).get(branch)
        if theirs is not None:
            tracking = b"refs/remotes/content/" + branch.removeprefix(b"refs/heads/")
            repo.refs[Ref(tracking)] = theirs
        with locked(repo):
            ours = self._integrate(repo, theirs)
        if ours is not None and ours != theirs:
            self._push(repo, client, path, branch, theirs, ours)

    def _branch(self, repo: Repo) -> Ref:
        names, _ = repo.refs.follow(HEADREF)
        if len(names) < 2:
            raise ContentGitError("HEAD is detached; check out a branch in the content folder")
        return names[-1]

    def _push(
        self,
        repo: Repo,
        client: GitClient,
        path: str,
        branch: Ref,
        expected: ObjectID | None,
        ours: ObjectID,
    ) -> None:
        def update(refs: dict[Ref, ObjectID]) -> dict[Ref, ObjectID]:
            if refs.get(branch) != expected:
                raise RemoteMoved("the remote moved")
            return {branch: ours}

        def pack(
            have: AbstractSet[ObjectID],
            want: AbstractSet[ObjectID],
            *,
            ofs_delta: bool = False,
            progress: Callable[..., None] | None = None,
        ) -> tuple[int, Iterator[UnpackedObject]]:
            return repo.generate_pack_data(
                set(have), set(want), progress=progress, ofs_delta=ofs_delta
            )

        result = client.send_pack(path.encode(), update, generate_pack_data=pack)
        if any(error is not None for error in (result.ref_status or {}).values()):
            raise RemoteMoved("the remote refused the push")
        log.info("content pushed %s to %s", ours.decode()[:10], redact(self.remote))

    def _integrate(self, repo: Repo, theirs: ObjectID | None) -> ObjectID | None:
        """Bring ``theirs`` into HEAD and the working tree; returns the new HEAD."""
        ours = head_of(repo)
        if theirs is None or ours == theirs:
            return ours
        if ours is not None and can_fast_forward(repo, theirs, ours):
            return ours  # only we moved: the push carries it
        if ours is None or can_fast_forward(repo, ours, theirs):
            if self._checkout(repo, tree_of(repo, ours), tree_of(repo, theirs)):
                self._move(repo, ours, theirs)
                log.info("content pulled %s from %s", theirs.decode()[:10], redact(self.remote))
                return theirs
            return ours
        return self._merge(repo, ours, theirs)

    def _merge(self, repo: Repo, ours: ObjectID, theirs: ObjectID) -> ObjectID:
        bases = find_merge_base(repo, [ours, theirs])
        base = tree_of(repo, bases[0] if bases else None)
        mine = self._changes(repo, base, tree_of(repo, ours))
        other = self._changes(repo, base, tree_of(repo, theirs))
        clashes = sorted(p for p in mine.keys() & other.keys() if mine[p] != other[p])
        taken = [(p, *other[p]) for p in other if p not in mine]
        our_tree = tree_of(repo, ours)
        tree = commit_tree_changes(repo.object_store, repo[our_tree], taken)  # type: ignore[arg-type]
        if not self._checkout(repo, our_tree, tree):
            return ours
        message = "Bring in the edits saved on another host"
        if clashes:
            names = ", ".join(self._content_name(repo, p) for p in clashes)
            message += (
                f"\n\nBoth hosts changed {names}: this host's text was kept; the other text "
                f"is in commit {theirs.decode()}."
            )
        commit = Commit()
        commit.tree, commit.parents = tree, [ours, theirs]
        commit.author = commit.committer = self.site.signature()
        commit.author_time = commit.commit_time = int(datetime.now(UTC).timestamp())
        commit.author_timezone = commit.commit_timezone = 0
        commit.encoding = b"UTF-8"
        commit.message = message.encode() + b"\n"
        repo.object_store.add_object(commit)
        self._move(repo, ours, commit.id)
        if clashes:
            self._record(repo, [self._content_name(repo, p) for p in clashes], theirs)
        return commit.id

    def _changes(
        self, repo: Repo, old: ObjectID, new: ObjectID
    ) -> dict[bytes, tuple[int | None, ObjectID | None]]:
        found: dict[bytes, tuple[int | None, ObjectID | None]] = {}
        for change in repo.object_store.tree_changes(old, new):
            (old_path, new_path), (_, mode), (_, sha) = change
            if old_path is not None and old_path != new_path:
                found[old_path] = (None, None)
            if new_path is not None:
                found[new_path] = (mode, sha)
        return found

    def _checkout(self, repo: Repo, old: ObjectID, new: ObjectID) -> bool:
        """Turn the working files from tree ``old`` into tree ``new``. Writes nothing and
        returns False when one of those files holds text that is in neither tree."""
        root = Path(repo.path)
        changes = self._changes(repo, old, new)
        before = self._changes(repo, new, old)
        for name, (_, sha) in changes.items():
            current = self._blob_of(root / name.decode())
            if current not in {sha, before.get(name, (None, None))[1]}:
                log.warning("content pull waits: %s has unsaved changes here", name.decode())
                return False
        index = repo.open_index()
        for name, (mode, sha) in changes.items():
            target = root / name.decode()
            if sha is None:
                target.unlink(missing_ok=True)
                if name in index:
                    del index[name]
                continue
            blob = repo[sha]
            assert isinstance(blob, Blob) and mode is not None
            write_file(target, blob.data, mode)
            st = os.lstat(target)
            index[name] = index_entry_from_stat(st, sha, blob_mode(st))
        index.write()
        return True

    def _blob_of(self, path: Path) -> ObjectID | None:
        try:
            return Blob.from_string(path.read_bytes()).id
        except (FileNotFoundError, IsADirectoryError):
            return None

    def _move(self, repo: Repo, old: ObjectID | None, new: ObjectID) -> None:
        moved = (
            repo.refs.set_if_equals(HEADREF, old, new)
            if old is not None
            else repo.refs.add_if_new(HEADREF, new)
        )
        if not moved:
            raise ContentGitError("the branch moved while pulling")

    def _content_name(self, repo: Repo, name: bytes) -> str:
        path = Path(repo.path) / name.decode()
        try:
            return path.resolve().relative_to(self.repo.content_dir).as_posix()
        except ValueError:
            return name.decode()

    # --- what the editor shows ----------------------------------------------------------
    def _record(self, repo: Repo, paths: list[str], theirs: ObjectID) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        kept = [*set_aside(repo), *(SetAside(p, theirs.decode(), now) for p in paths)]
        target = Path(repo.controldir()) / CONFLICTS_NAME
        data = json.dumps([vars(s) for s in kept[-KEPT_CONFLICTS:]], indent=1).encode()
        write_file(target, data, 0o100644)
        for path in paths:
            log.warning("content conflict on %s: kept this host's text", path)


def set_aside(repo: Repo) -> Iterator[SetAside]:
    """The recorded conflicts of ``repo``, oldest first."""
    try:
        rows = json.loads((Path(repo.controldir()) / CONFLICTS_NAME).read_text())
    except (FileNotFoundError, ValueError):
        return
    for row in rows:
        yield SetAside(str(row["path"]), str(row["commit"]), str(row["at"]))


def conflicts_for(content: ContentRepo, path: str) -> list[SetAside]:
    """The other hosts' versions of ``path`` (relative to the content folder) set aside."""
    repo = content.open() if content.enabled else None
    if repo is None:
        return []
    with repo:
        return [s for s in set_aside(repo) if s.path == path]


CONTENT_SYNC = Slot[ContentSync](
    "content_sync", "the content repository's remote", set_by="app.site.gitwiring.init_app"
)
