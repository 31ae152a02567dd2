"""Where a key or table sits in the text of a ``pack.toml``: tomllib keeps no positions, and a
problem is only useful with its line."""

from __future__ import annotations

import re
from collections.abc import Iterator


class TomlLines:
    """Finds the line of a key or table in the text of a ``pack.toml`` (tomllib keeps none)."""

    HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.-]+)\s*\]\]?")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def _sections(self) -> Iterator[tuple[str | None, int, int]]:
        """(table name or None for the top, first line, line after last), 1-based."""
        name: str | None = None
        start = 1
        for number, line in enumerate(self.lines, 1):
            match = self.HEADER.match(line)
            if match:
                yield name, start, number
                name, start = match.group(1), number
        yield name, start, len(self.lines) + 1

    def _key_in(self, key: str, start: int, stop: int) -> int | None:
        pattern = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
        for number in range(start, stop):
            if pattern.match(self.lines[number - 1]):
                return number
        return None

    def top(self, key: str) -> int | None:
        for name, start, stop in self._sections():
            if name is None:
                return self._key_in(key, start, stop)
        return None

    def table(self, table: str, key: str | None = None, occurrence: int = 1) -> int | None:
        """The line of ``key`` in the ``occurrence``-th ``[table]``/``[[table]]`` (or of its
        header when ``key`` is None or absent)."""
        seen = 0
        for name, start, stop in self._sections():
            if name == table:
                seen += 1
                if seen == occurrence:
                    return (self._key_in(key, start + 1, stop) if key else None) or start
        return None
