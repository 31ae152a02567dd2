"""Split a Markdown file into its YAML front matter and its body, with errors that name the line.

::

    ---
    title: Why pull wins
    tags: [strategy]
    ---
    The body starts here.

Errors::

    SourceError            a content file cannot be used (``path`` and ``line`` say where)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.editorfiles.documents import (
    Document,
    KeyPath,
    load_yaml,
    split_front_matter,
)
from app.editorfiles.errors import EditorFileError
from app.editorfiles.fields import Fields

MAX_FILE_BYTES = 1_000_000


class SourceError(EditorFileError):
    """A problem in a content file, reported as ``path:line: message``."""


@dataclass(frozen=True)
class Source:
    path: Path
    meta: dict[str, Any]
    body: str
    body_line: int  # line number of the body's first line in the file
    raw: bytes
    lines: Mapping[KeyPath, int] = field(default_factory=dict, compare=False, repr=False)
    """The file line of every key path of the front matter, such as ``("questions", 0)``."""

    def line(self, *where: str | int) -> int:
        """The line of a field (or list item) of the front matter, or of its nearest parent
        (2, the first line of front matter, when none is found)."""
        return self.document.line(*where)

    @property
    def document(self) -> Document:
        return Document(self.path, self.meta, self.lines, first_line=2)

    def fields(self) -> Fields:
        """Typed readers for the front matter's fields."""
        return Fields.of(self.document)


def parse_source(path: Path, raw: bytes | None = None) -> Source:
    """Read ``path`` (or the given bytes) and split it. Raises :class:`SourceError`."""
    if raw is None:
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise SourceError(
                    path, 1, f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}"
                )
            raw = path.read_bytes()
        except OSError as exc:
            raise SourceError(path, 1, f"cannot read: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise SourceError(path, 1, f"file is {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SourceError(path, line, f"not UTF-8 (byte 0x{raw[exc.start]:02x})") from None
    try:
        front = split_front_matter(path, text)
        document = load_yaml(path, front.yaml, first_line=2)
    except EditorFileError as exc:
        raise SourceError(exc.path, exc.line, exc.message) from None
    return Source(
        path=path,
        meta=document.data,
        body=front.body,
        body_line=front.body_line,
        raw=raw,
        lines=document.lines,
    )
