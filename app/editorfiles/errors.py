"""Errors of editor-written files (front matter, ``*.toml``), each naming the file and line::

    EditorFileError          a file an editor wrote cannot be used: ``path:line: message``
    ├── UnreadableFile       not UTF-8, too big, not YAML/TOML, nested too deeply, alias bomb
    └── BadField             one field (``key``) is not what the file format asks for
        ├── MissingField     a required field is absent
        ├── UnknownField     a field no reader knows (with "did you mean" when one is close)
        └── TooLong          text longer than its limit

An area that owns a file (scopes, surveys, packs, content) either subclasses
:class:`EditorFileError` for its own file or converts at its boundary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class EditorFileError(ValueError):
    """A problem in an editor-written file; ``str(error)`` is ``"<path>:<line>: <message>"``."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path, self.line, self.message = Path(path), max(line or 1, 1), message
        super().__init__(f"{self.path}:{self.line}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its parts, so it crosses to and from a worker process unchanged.
        return (type(self), (self.path, self.line, self.message), self.__dict__)


class UnreadableFile(EditorFileError):
    pass


class BadField(EditorFileError):
    """``key`` is the field's name (or list index) inside its table."""

    def __init__(self, path: Path | str, line: int | None, message: str, key: str | int) -> None:
        super().__init__(path, line, message)
        self.key = key

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path, self.line, self.message, self.key), self.__dict__)


class MissingField(BadField):
    pass


class UnknownField(BadField):
    pass


class TooLong(BadField):
    pass
