"""Reading an uploaded or exported CSV file as records with their line numbers.

The file is streamed twice at most (once to settle its encoding, once per pass over its rows),
never held whole in memory. Encoding rules:

- a UTF-8 byte order mark is dropped; a UTF-16 or UTF-32 one refuses the file (save it as
  "CSV UTF-8");
- a file that is UTF-8 throughout is read as UTF-8;
- a file in which no line is UTF-8 with non-ASCII letters but some line is not UTF-8 is read
  as Windows-1252 (what Excel writes on Windows), the whole file;
- in a file that is otherwise UTF-8, a line that is not UTF-8 is a *mixed encodings* line: the
  record holding it is reported as a bad row, never guessed at.

Records keep the number of the line they start on (the header is line 1), so every report can
say ``file:line``. A file with NUL bytes, or that the CSV reader cannot parse, is refused with
the file name and line.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import BinaryIO

from app.transfer.errors import ImportRefused

Opener = Callable[[], BinaryIO]

UTF8_BOM = codecs.BOM_UTF8
WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
MAX_CELL = 100_000


class Encoding(StrEnum):
    UTF8 = "utf-8"
    CP1252 = "cp1252"
    MIXED = "mixed"  # UTF-8 with some lines that are not: those lines are bad rows


@dataclass(frozen=True)
class Record:
    line: int
    cells: list[str]
    not_utf8: bool = False  # holds a line that is not UTF-8 in a file that otherwise is


def _lines(handle: BinaryIO) -> Iterator[bytes]:
    first = True
    for raw in handle:
        if first:
            first = False
            if raw.startswith(WIDE_BOMS):
                raise ImportRefused("is UTF-16 or UTF-32 text: save it as “CSV UTF-8”")
            raw = raw.removeprefix(UTF8_BOM)
        if b"\x00" in raw:
            raise ImportRefused("holds binary data (NUL bytes): it is not a CSV file")
        yield raw


def settle_encoding(open_file: Opener) -> Encoding:
    """Read the file once and decide how to decode it (see the module's rules)."""
    utf8_letters = invalid = 0
    with open_file() as handle:
        for raw in _lines(handle):
            if raw.isascii():
                continue
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                invalid += 1
            else:
                utf8_letters += 1
    if not invalid:
        return Encoding.UTF8
    return Encoding.MIXED if utf8_letters else Encoding.CP1252


class _Decoded:
    """The file's lines as text, remembering which ones were not UTF-8."""

    def __init__(self, handle: BinaryIO, encoding: Encoding) -> None:
        self.handle, self.encoding = handle, encoding
        self.count = 0
        self.bad_lines: set[int] = set()

    def __iter__(self) -> Iterator[str]:
        for raw in _lines(self.handle):
            self.count += 1
            if self.encoding == Encoding.CP1252:
                yield raw.decode("cp1252", "replace")
                continue
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self.bad_lines.add(self.count)
                yield raw.decode("utf-8", "replace")


def _delimiter(header: str) -> str:
    """Comma, unless the header line has none and uses semicolons or tabs (Excel in some
    languages)."""
    if "," in header:
        return ","
    for candidate in (";", "\t"):
        if candidate in header:
            return candidate
    return ","


def records(open_file: Opener, encoding: Encoding) -> Iterator[Record]:
    """Every non-blank record of the file, header first, with the line it starts on.

    Raises :class:`ImportRefused` for a file the CSV reader cannot parse."""
    with open_file() as handle:
        decoded = _Decoded(handle, encoding)
        lines = iter(decoded)
        first = next(lines, None)
        if first is None:
            raise ImportRefused("is empty")

        def again() -> Iterator[str]:
            yield first
            yield from lines

        reader = csv.reader(again(), delimiter=_delimiter(first), strict=False)
        done = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ImportRefused(f"line {done + 1}: not CSV: {exc}") from None
            start, done = done + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if any(len(cell) > MAX_CELL for cell in cells):
                raise ImportRefused(f"line {start}: a cell is longer than {MAX_CELL:,} characters")
            hit = bool(decoded.bad_lines) and any(
                n in decoded.bad_lines for n in range(start, done + 1)
            )
            if hit:
                decoded.bad_lines.difference_update(range(start, done + 1))
            yield Record(start, cells, hit)
