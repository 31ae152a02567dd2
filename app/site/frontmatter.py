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

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MAX_FILE_BYTES = 1_000_000


class SourceError(ValueError):
    """A problem in a content file, reported as ``path:line: message``."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        self.path, self.line, self.message = Path(path), max(line, 1), message
        super().__init__(f"{self.path}:{self.line}: {message}")


@dataclass(frozen=True)
class Source:
    path: Path
    meta: dict[str, Any]
    body: str
    body_line: int  # line number of the body's first line in the file
    raw: bytes


# libyaml's parser when PyYAML was built with it (a tenth of a cold build was spent parsing
# front matter in Python); the same safe constructor either way.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[misc, valid-type]
    """Safe YAML that keeps dates as text, so every field is validated in one place."""


# Drop the timestamp resolver: "2026-01-05" stays a string and is parsed by the caller.
_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


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
    if not text.strip():
        raise SourceError(path, 1, "file is empty")
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip() != "---":
        raise SourceError(path, 1, "front matter must start with a line of three dashes (---)")
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        raise SourceError(path, 1, "front matter is not closed by a line of three dashes (---)")
    try:
        meta = yaml.load("".join(lines[1:end]), Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 2) if mark is not None else 2
        raise SourceError(path, line, f"invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise SourceError(path, 2, f"invalid YAML: {exc}") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise SourceError(path, 2, "front matter must be a mapping of field: value")
    return Source(path=path, meta=meta, body="".join(lines[end + 1 :]), body_line=end + 2, raw=raw)


def field_line(source: Source, name: str) -> int:
    """The line of ``name:`` in the front matter, for messages about one field."""
    for number, line in enumerate(source.raw.decode("utf-8-sig").splitlines()[1:], start=2):
        if line.startswith(f"{name}:"):
            return number
        if line.rstrip() in ("---", "..."):
            break
    return 2
