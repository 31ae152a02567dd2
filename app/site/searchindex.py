"""The Whoosh index on disk: its schema, incremental updates and the atomic full rebuild.

Layout under ``instance/search``::

    CURRENT            names the generation folder in use (replaced atomically)
    gen-<stamp>/       a Whoosh index, plus stamps.json: document key → content hash

Searching and the rest of the app never see Whoosh types: :mod:`app.site.search` is the only
caller. One field, ``content``, holds the title (boosted), the tags (boosted) and the body, so a
query word is one posting list and Whoosh can skip blocks that cannot reach the top ten.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh import fields, index
from whoosh.analysis import LowercaseFilter, RegexTokenizer, StemFilter, StopFilter, Tokenizer
from whoosh.analysis.acore import Token
from whoosh.index import LockError

log = logging.getLogger("pullfirst.search")

SECTION = "\x1e"
BOOSTS = (4.0, 2.0, 1.0)  # title, tags, body
MAX_STORED_TEXT = 30_000
STAMPS = "stamps.json"


class SectionTokenizer(Tokenizer):
    """Words of ``title␞tags␞body``; each section's tokens carry that section's boost."""

    def __init__(self) -> None:
        self.words = RegexTokenizer()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def __call__(self, value: str, **kwargs: Any) -> Iterator[Token]:
        if SECTION not in value:
            yield from self.words(value, **kwargs)
            return
        position, offset = kwargs.pop("start_pos", 0), kwargs.pop("start_char", 0)
        for boost, section in zip(BOOSTS, value.split(SECTION), strict=False):
            last = None
            for token in self.words(section, start_pos=position, start_char=offset, **kwargs):
                token.boost = boost
                last = token
                yield token
            if last is not None and kwargs.get("positions"):
                position = last.pos + 1
            offset += len(section) + 1


def analyzer() -> Any:
    return SectionTokenizer() | LowercaseFilter() | StopFilter() | StemFilter(cachesize=50_000)


def schema() -> fields.Schema:
    return fields.Schema(
        key=fields.ID(stored=True, unique=True),
        kind=fields.ID(stored=True),
        tags=fields.KEYWORD(stored=True, commas=True, scorable=False),
        content=fields.TEXT(analyzer=analyzer(), phrase=False, spelling=True),
        url=fields.STORED, title=fields.STORED, summary=fields.STORED, date=fields.STORED,
        tagnames=fields.STORED, text=fields.STORED,
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
            "key": self.key, "kind": self.kind, "url": self.url, "title": self.title,
            "summary": self.summary, "date": self.date,
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
        return folder if name and folder.is_dir() else None

    def pointer_stamp(self) -> int:
        try:
            return self.pointer.stat().st_mtime_ns
        except FileNotFoundError:
            return 0

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

    def rebuild(self, documents: Iterable[Document], procs: int,
                progress: Callable[[int], None] | None = None) -> Path:
        """Build a complete new generation beside the current one, then swap ``CURRENT`` to
        it in one rename. Searches keep using the old generation until then."""
        self.root.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(dir=self.root, prefix=f"gen-{time.time_ns()}-"))
        ix = index.create_in(str(folder), schema())
        options: dict[str, Any] = {"limitmb": 256}
        if procs > 1:
            options.update(procs=procs, multisegment=False)
        writer = ix.writer(**options)
        stamps: dict[str, str] = {}
        try:
            for document in documents:
                writer.add_document(**document.fields())
                stamps[document.key] = document.hash
                if progress is not None:
                    progress(1)
            writer.commit()
        except BaseException:
            writer.cancel()
            shutil.rmtree(folder, ignore_errors=True)
            raise
        ix.close()
        self.write_stamps(folder, stamps)
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
