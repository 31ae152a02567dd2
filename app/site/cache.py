"""The render cache: what reading and rendering a content file produced, kept on disk in the
instance folder and keyed by a hash of the file's bytes.

Three tables in one SQLite file (``instance/site/cache.sqlite3``):

- ``files``: the last seen (mtime, size) of each path and the hash of its bytes, so a start-up
  where nothing changed reads no file at all;
- ``sources``: per hash, the front matter as read (or the problem that made the file unusable),
  the body's first line and its word count: small, loaded for every page at start-up;
- ``renders``: per hash, the sanitized HTML, its plain text, headings and links: loaded only when
  a page is shown, indexed or checked.

Each process opens its own connection (the cache notices a fork); threads share it under a lock.
Several processes may write at once: entries are pure functions of the hash, so the last writer
wins harmlessly.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.site.rendering import RENDERER_VERSION, Rendered

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL, hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sources (
    hash TEXT PRIMARY KEY, meta TEXT, problem TEXT, body_line INTEGER NOT NULL DEFAULT 1,
    words INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS renders (
    hash TEXT PRIMARY KEY, html TEXT NOT NULL, text TEXT NOT NULL, extra TEXT NOT NULL
);
"""


def content_hash(raw: bytes) -> str:
    """The cache key of a file's bytes (includes the renderer's version)."""
    digest = hashlib.blake2b(raw, digest_size=16, person=RENDERER_VERSION.encode()[:16])
    return digest.hexdigest()


@dataclass(frozen=True)
class SourceEntry:
    """What reading one file produced: front matter and word count, or a problem.

    ``slow_under`` is the render budget (seconds) the body took longer than, when that is the
    problem: a larger budget renders the file again instead of trusting this entry."""

    meta: dict[str, Any] | None
    body_line: int
    words: int
    problem: tuple[int, str] | None = None
    slow_under: float | None = None

    def holds_for(self, seconds: float) -> bool:
        """Whether this entry is still the answer under a render budget of ``seconds``."""
        return self.slow_under is None or self.slow_under >= seconds


@dataclass(frozen=True)
class FileStamp:
    mtime_ns: int
    size: int
    hash: str


def _problem(stored: str | None) -> tuple[tuple[int, str] | None, float | None]:
    if not stored:
        return None, None
    line, message, *slow_under = json.loads(stored)
    return (int(line), str(message)), (float(slow_under[0]) if slow_under else None)


class RenderCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._pid = -1
        self._connection: sqlite3.Connection | None = None

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._connection is None or self._pid != os.getpid():
                self.path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(
                    self.path, timeout=30, check_same_thread=False, isolation_level=None
                )
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
                connection.executescript(SCHEMA)
                self._connection, self._pid = connection, os.getpid()
            yield self._connection

    def close(self) -> None:
        with self._lock:
            if self._connection is not None and self._pid == os.getpid():
                self._connection.close()
            self._connection = None

    # --- files --------------------------------------------------------------------------------

    def stamps(self) -> dict[str, FileStamp]:
        with self._db() as db:
            rows = db.execute("SELECT path, mtime_ns, size, hash FROM files").fetchall()
        return {path: FileStamp(mtime, size, digest) for path, mtime, size, digest in rows}

    def remember_files(self, stamps: dict[str, FileStamp], forget: Iterable[str] = ()) -> None:
        with self._db() as db:
            db.execute("BEGIN")
            db.executemany(
                "INSERT OR REPLACE INTO files (path, mtime_ns, size, hash) VALUES (?, ?, ?, ?)",
                [(p, s.mtime_ns, s.size, s.hash) for p, s in stamps.items()],
            )
            db.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in forget])
            db.execute("COMMIT")

    # --- sources and renders ------------------------------------------------------------------

    def sources(self, hashes: Iterable[str]) -> dict[str, SourceEntry]:
        wanted = list(dict.fromkeys(hashes))
        found: dict[str, SourceEntry] = {}
        with self._db() as db:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for digest, meta, problem, body_line, words in db.execute(
                    f"SELECT hash, meta, problem, body_line, words FROM sources "  # noqa: S608
                    f"WHERE hash IN ({marks})",
                    chunk,
                ):
                    where, slow_under = _problem(problem)
                    found[digest] = SourceEntry(
                        meta=json.loads(meta) if meta is not None else None,
                        body_line=body_line,
                        words=words,
                        problem=where,
                        slow_under=slow_under,
                    )
        return found

    def store(self, digest: str, entry: SourceEntry, rendered: Rendered | None) -> None:
        meta = json.dumps(entry.meta, default=str) if entry.meta is not None else None
        problem = (
            json.dumps([*entry.problem, *([entry.slow_under] if entry.slow_under else [])])
            if entry.problem
            else None
        )
        with self._db() as db:
            db.execute("BEGIN")
            db.execute(
                "INSERT OR REPLACE INTO sources (hash, meta, problem, body_line, words) "
                "VALUES (?, ?, ?, ?, ?)",
                (digest, meta, problem, entry.body_line, entry.words),
            )
            if rendered is not None:
                extra = rendered.to_json()
                html, text = extra.pop("html"), extra.pop("text")
                db.execute(
                    "INSERT OR REPLACE INTO renders (hash, html, text, extra) VALUES (?, ?, ?, ?)",
                    (digest, html, text, json.dumps(extra)),
                )
            db.execute("COMMIT")

    def rendered(self, digest: str) -> Rendered | None:
        with self._db() as db:
            row = db.execute(
                "SELECT html, text, extra FROM renders WHERE hash = ?", (digest,)
            ).fetchone()
        if row is None:
            return None
        return Rendered.from_json({"html": row[0], "text": row[1], **json.loads(row[2])})

    def texts(self, hashes: Iterable[str]) -> dict[str, str]:
        """Plain text of many renders at once (for indexing)."""
        wanted = list(dict.fromkeys(hashes))
        found: dict[str, str] = {}
        with self._db() as db:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                found.update(
                    db.execute(
                        f"SELECT hash, text FROM renders WHERE hash IN ({marks})",  # noqa: S608
                        chunk,
                    ).fetchall()
                )
        return found

    def prune(self, keep: set[str]) -> int:
        """Drop entries no current file uses; returns how many went."""
        with self._db() as db:
            known = {row[0] for row in db.execute("SELECT hash FROM sources")}
            stale = [(h,) for h in known - keep]
            if stale:
                db.execute("BEGIN")
                db.executemany("DELETE FROM sources WHERE hash = ?", stale)
                db.executemany("DELETE FROM renders WHERE hash = ?", stale)
                db.execute("COMMIT")
        return len(stale)
