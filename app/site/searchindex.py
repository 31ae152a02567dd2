"""The Whoosh index on disk: its schema, incremental updates and the atomic full rebuild.

Layout under ``instance/search``::

    CURRENT            names the generation folder in use (replaced atomically)
    gen-<stamp>/       a Whoosh index, plus stamps.json: document key → content hash

Searching and the rest of the app never see Whoosh types: :mod:`app.site.search` is the only
caller. One field, ``content``, holds the title (boosted), the tags (boosted) and the body, so a
query word is one posting list and Whoosh can skip blocks that cannot reach the top ten.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh import fields, index
from whoosh.analysis import STOP_WORDS, StemFilter, Tokenizer
from whoosh.analysis.acore import Token
from whoosh.index import LockError
from whoosh.lang.porter import stem
from whoosh.system import pack_uint

from app.site.segments import write_segments

log = logging.getLogger("pullfirst.search")

SECTION = "\x1e"
BOOSTS = (4.0, 2.0, 1.0)  # title, tags, body
MAX_STORED_TEXT = 30_000
STAMPS = "stamps.json"
SCHEMA_VERSION = "2"  # bump when the schema or the analyzer changes: old indexes are rebuilt


WORD = re.compile(r"\w+(?:\.?\w+)*", re.UNICODE)
STOPS = frozenset(STOP_WORDS)


class SectionTokenizer(Tokenizer):
    """Lower-cased words of ``title␞tags␞body`` without stop words; each section's words carry
    that section's boost. (Lower-casing and stop words are done here, in one pass, instead of in
    two more filters: indexing 10,000 articles spends most of its time in this chain.)"""

    def __init__(self) -> None:
        self.pattern = WORD
        self.stops = STOPS

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        sections = value.split(SECTION) if SECTION in value else [value]
        boosts = BOOSTS if len(sections) > 1 else (1.0,)
        position, offset, stops = 0, 0, self.stops
        for boost, section in zip(boosts, sections, strict=False):
            for match in self.pattern.finditer(section.lower()):
                text = match.group(0)
                if len(text) < 2 or text in stops:
                    if not removestops:
                        token.text, token.stopped, token.boost = text, True, boost
                        yield token
                    continue
                token.text, token.stopped, token.boost = text, False, boost
                if keeporiginal:
                    token.original = text
                if positions:
                    token.pos = position
                    position += 1
                if chars:
                    token.startchar = offset + match.start()
                    token.endchar = offset + match.end()
                yield token
            offset += len(section) + 1


def analyzer() -> Any:
    return SectionTokenizer() | StemFilter(cachesize=50_000)


_stems: dict[str, str] = {}
STEMS_KEPT = 200_000


class ContentField(fields.TEXT):
    """The ``content`` field. Searching uses :func:`analyzer` as with any TEXT field; indexing
    counts the same stems with the same boosts in one loop, without a token object per word
    (the analyzer chain and Whoosh's counting of its tokens were half the time of a build)."""

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        if not isinstance(value, str) or kwargs:
            yield from super().index(value, **kwargs)
            return
        if len(_stems) > STEMS_KEPT:
            _stems.clear()
        counts: dict[str, int] = {}
        weights: dict[str, float] = {}
        sections = value.split(SECTION) if SECTION in value else [value]
        boosts = BOOSTS if len(sections) > 1 else (1.0,)
        for boost, section in zip(boosts, sections, strict=False):
            for text in WORD.findall(section.lower()):
                if len(text) < 2 or text in STOPS:
                    continue
                word = _stems.get(text)
                if word is None:
                    word = _stems[text] = stem(text)
                counts[word] = counts.get(word, 0) + 1
                weights[word] = weights.get(word, 0.0) + boost
        field_boost = self.format.field_boost
        for word, count in counts.items():
            yield word.encode("utf-8"), count, weights[word] * field_boost, pack_uint(count)


def schema() -> fields.Schema:
    return fields.Schema(
        key=fields.ID(stored=True, unique=True),
        kind=fields.ID(stored=True),
        tags=fields.KEYWORD(stored=True, commas=True, scorable=False),
        content=ContentField(analyzer=analyzer(), phrase=False),
        url=fields.STORED,
        title=fields.STORED,
        summary=fields.STORED,
        date=fields.STORED,
        tagnames=fields.STORED,
        text=fields.STORED,
    )


@dataclass(frozen=True)
class Document:
    """One searchable thing: a post, a page or a survey."""

    key: str
    hash: str
    kind: str
    url: str
    title: str
    summary: str
    text: str
    tags: tuple[tuple[str, str], ...] = ()  # (slug, name)
    date: str = ""

    def fields(self) -> dict[str, Any]:
        names = " ".join(name for _, name in self.tags)
        return {
            "key": self.key,
            "kind": self.kind,
            "url": self.url,
            "title": self.title,
            "summary": self.summary,
            "date": self.date,
            "tags": ",".join(slug for slug, _ in self.tags),
            "tagnames": [list(t) for t in self.tags],
            "text": self.text[:MAX_STORED_TEXT],
            "content": SECTION.join((self.title, names, f"{self.summary} {self.text}")),
        }


class IndexFolder:
    """Finds, opens and replaces the current index generation."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def pointer(self) -> Path:
        return self.root / "CURRENT"

    def current_dir(self) -> Path | None:
        try:
            name = self.pointer.read_text().strip()
        except FileNotFoundError:
            return None
        folder = self.root / name
        try:
            version = (folder / "VERSION").read_text().strip()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return folder if name and version == SCHEMA_VERSION else None

    def open(self) -> Any | None:
        folder = self.current_dir()
        if folder is None:
            return None
        try:
            return index.open_dir(str(folder))
        except Exception:  # an index from another version, or damaged: treat as absent
            log.exception("search index in %s cannot be opened; rebuild it", folder)
            return None

    def stamps(self, folder: Path | None = None) -> dict[str, str]:
        folder = folder or self.current_dir()
        if folder is None:
            return {}
        try:
            data = json.loads((folder / STAMPS).read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    @staticmethod
    def write_stamps(folder: Path, stamps: dict[str, str]) -> None:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".stamps-")
        with os.fdopen(fd, "w") as handle:
            json.dump(stamps, handle)
        os.replace(temporary, folder / STAMPS)

    def update(self, documents: Iterable[Document], remove: Iterable[str]) -> bool:
        """Add or replace ``documents`` and delete ``remove`` keys in the current index.
        Returns False (and changes nothing) when another process holds the write lock."""
        ix = self.open()
        if ix is None:
            return False
        folder = self.current_dir()
        assert folder is not None
        try:
            writer = ix.writer()
        except LockError:
            return False
        try:
            stamps = self.stamps(folder)
            for key in remove:
                writer.delete_by_term("key", key)
                stamps.pop(key, None)
            for document in documents:
                writer.update_document(**document.fields())
                stamps[document.key] = document.hash
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        finally:
            ix.close()
        self.write_stamps(folder, stamps)
        return True

    def rebuild(
        self,
        documents: Iterable[Document],
        procs: int,
        progress: Callable[[int], None] | None = None,
    ) -> Path:
        """Build a complete new generation beside the current one, then swap ``CURRENT`` to
        it in one rename. Searches keep using the old generation until then.

        One process at a time builds (a lock file beside ``CURRENT``): processes that start
        together on a fresh instance (the site and its notifier workers) would otherwise
        remove each other's generation while it is being written."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".rebuild.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return self._build(documents, procs, progress)

    def _build(
        self, documents: Iterable[Document], procs: int, progress: Callable[[int], None] | None
    ) -> Path:
        folder = Path(tempfile.mkdtemp(dir=self.root, prefix=f"gen-{time.time_ns()}-"))
        ix = index.create_in(str(folder), schema())
        try:
            stamps = write_segments(ix, folder, documents, procs, progress)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        finally:
            ix.close()
        self.write_stamps(folder, stamps)
        (folder / "VERSION").write_text(SCHEMA_VERSION + "\n")
        previous = self.current_dir()
        fd, temporary = tempfile.mkstemp(dir=self.root, prefix=".current-")
        with os.fdopen(fd, "w") as handle:
            handle.write(folder.name + "\n")
        os.replace(temporary, self.pointer)
        self._remove_old(keep={folder, previous} - {None})
        return folder

    def _remove_old(self, keep: set[Path | None]) -> None:
        for child in self.root.glob("gen-*"):
            if child not in keep and child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
