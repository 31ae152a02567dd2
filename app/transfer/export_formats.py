"""The member export written out, as chunks of bytes produced while the rows are read.

- ``json``: one UTF-8 JSON document, ``{"exported_at", "site", "members": [...],
  "entitlements": [...], "consent_states": [...], "ledger": [...]}``, one row object per line.
  Values are exactly as stored (a name that looks like a formula stays one: JSON is data).
- ``csv``: a zip of four CSV files (``members.csv``, ``earned.csv``, ``consent.csv``,
  ``ledger.csv``), UTF-8 with a header row and CRLF line ends (RFC 4180). A zip rather than a
  folder: the browser download and the command write the same single file, a file that is
  written whole or not at all, and whose one set of permissions covers all four. Text cells that
  a spreadsheet would run as a formula start with an apostrophe (:func:`app.tabular.safe_cell`);
  true and false are written ``true`` and ``false``, no value as an empty cell.

The zip is written without seeking (sizes in data descriptors, ZIP64 so that a ledger may pass
4 GiB), so it streams like the JSON does. Each generator reads the export's snapshot from its
first chunk to its last, and ends it even when the reader stops early.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum

from app.tabular import safe_cell
from app.transfer.export import PARTS, MemberExport, Value

#: Bytes gathered before a chunk is handed on.
CHUNK = 64 * 1024


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


MEDIA_TYPES = {ExportFormat.CSV: "application/zip", ExportFormat.JSON: "application/json"}
SUFFIXES = {ExportFormat.CSV: "zip", ExportFormat.JSON: "json"}


def filename(export_format: ExportFormat, at: datetime) -> str:
    """``members-20261206-101500.zip``: the name a download is saved under."""
    return f"members-{at:%Y%m%d-%H%M%S}.{SUFFIXES[export_format]}"


def chunks(export: MemberExport, export_format: ExportFormat) -> Iterator[bytes]:
    """The export in ``export_format``, as it is read."""
    if export_format is ExportFormat.JSON:
        return json_chunks(export)
    return csv_zip_chunks(export)


# --- JSON -----------------------------------------------------------------------------------


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def json_chunks(export: MemberExport) -> Iterator[bytes]:
    """The export as one JSON document."""
    export.begin()
    try:
        pending = [
            f'{{"exported_at": {_json(export.exported_at.isoformat())}, '
            f'"site": {_json(export.site)}'
        ]
        size = 0
        for part in PARTS:
            pending.append(f",\n{_json(part.name)}: [")
            separator = "\n"
            for row in export.rows(part):
                line = separator + _json(dict(zip(part.columns, row, strict=True)))
                pending.append(line)
                size += len(line)
                separator = ",\n"
                if size >= CHUNK:
                    yield "".join(pending).encode()
                    pending, size = [], 0
            pending.append("\n]")
        pending.append("}\n")
        yield "".join(pending).encode()
    finally:
        export.end()


# --- CSV in a zip ---------------------------------------------------------------------------


class _Pipe(io.RawIOBase):
    """Where the zip writes: bytes kept until :meth:`drain` hands them on. It cannot seek, so
    :mod:`zipfile` writes each member's sizes after its data."""

    def __init__(self) -> None:
        super().__init__()
        self._pending: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        block = bytes(data)
        self._pending.append(block)
        self._position += len(block)
        return len(block)

    def tell(self) -> int:
        return self._position

    def drain(self) -> bytes:
        block = b"".join(self._pending)
        self._pending.clear()
        return block


def csv_cell(value: Value) -> str:
    """A value as a CSV cell: formula-safe text, ``true``/``false``, empty for no value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return safe_cell(value)


def csv_zip_chunks(export: MemberExport) -> Iterator[bytes]:
    """The export as a zip of one CSV file per part."""
    export.begin()
    try:
        pipe = _Pipe()
        stamp = export.exported_at.timetuple()[:6]
        with zipfile.ZipFile(pipe, "w") as archive:
            for part in PARTS:
                info = zipfile.ZipInfo(part.file, date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o600 << 16
                with archive.open(info, "w", force_zip64=True) as entry:
                    text = io.StringIO()
                    writer = csv.writer(text, lineterminator="\r\n")
                    writer.writerow(part.columns)
                    for row in export.rows(part):
                        writer.writerow([csv_cell(value) for value in row])
                        if text.tell() >= CHUNK:
                            entry.write(text.getvalue().encode())
                            text.seek(0)
                            text.truncate()
                            if block := pipe.drain():
                                yield block
                    entry.write(text.getvalue().encode())
                if block := pipe.drain():
                    yield block
            archive.comment = (
                f"Member export of {export.site.get('title', '')}, {export.exported_at.isoformat()}"
            ).encode()[:65535]
        yield pipe.drain()
    finally:
        export.end()
