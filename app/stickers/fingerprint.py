"""The content hash of a pack: what names its build folder, so unchanged packs are skipped.

The hash covers the pipeline's version, the settings that shape the output, and the bytes of
every file the spec names. Hashing a pack of 12 MP photos reads a lot of bytes, so each file's
digest is kept in ``instance/stickers/<slug>/sources.json`` next to its size, modification time,
change time and inode; a file whose four stamps are unchanged is not read again. A warm run
with nothing to do therefore costs one ``stat`` per file.

A stamp is trusted only for a file that had not changed for :data:`SETTLED_NS` when its digest
was taken: a file rewritten within one tick of the file system's clock (same size, same times,
same inode) would otherwise keep the digest of its old bytes. Such a file is read again.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

from app.stickers.spec import PackSpec

PIPELINE_VERSION = "pullfirst-stickers-1"
SETTLED_NS = 2_000_000_000  # a file unchanged this long before it was read is settled
SOURCES_FILE = "sources.json"


def _stamp(path: Path) -> list[int]:
    info = path.stat()
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]


def _digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def read_stamps(pack_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((pack_dir / SOURCES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_stamps(pack_dir: Path, stamps: dict[str, Any]) -> None:
    """Replace the stamp file atomically (a reader sees the old or the new one, never half)."""
    pack_dir.mkdir(parents=True, exist_ok=True)
    temporary = pack_dir / f".{SOURCES_FILE}.{secrets.token_hex(6)}"
    temporary.write_text(json.dumps(stamps, sort_keys=True), encoding="utf-8")
    os.replace(temporary, pack_dir / SOURCES_FILE)


def pack_hash(
    spec: PackSpec, settings: dict[str, Any], stamps: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """The pack's content hash, and the stamps to keep for next time.

    ``settings`` are the values that change the output (the Telegram bot name, the pixel cap);
    ``stamps`` are those read by :func:`read_stamps`. Raises ``OSError`` when a file vanished.
    """
    total = hashlib.sha256()
    total.update(PIPELINE_VERSION.encode())
    total.update(json.dumps(settings, sort_keys=True).encode())
    fresh: dict[str, Any] = {}
    for name, path in spec.source_files():
        stamp = _stamp(path)
        known = stamps.get(name)
        changed_ns = max(stamp[1], stamp[2])
        if (
            isinstance(known, dict)
            and known.get("stamp") == stamp
            and isinstance(known.get("read_ns"), int)
            and changed_ns < known["read_ns"] - SETTLED_NS
        ):
            digest, read_ns = str(known["sha256"]), int(known["read_ns"])
        else:
            read_ns = time.time_ns()
            digest = _digest(path)
        fresh[name] = {"stamp": stamp, "sha256": digest, "read_ns": read_ns}
        total.update(f"\0{name}\0{digest}".encode())
    return total.hexdigest(), fresh
