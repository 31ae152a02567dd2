"""Complete builds on disk, as the site and the commands read them.

``instance/stickers/<slug>/`` holds one folder per build, named by the pack's content hash, and
a file ``current`` naming the newest complete one. A build folder appears only by a rename of
a finished temporary folder, and ``current`` changes only by an atomic replace, so a reader sees
the old build or the new one, never half of either. ``pack.json`` in the build folder records
what the build made; the pages show that record, so they always match the files served.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

BUILD_FILE = "pack.json"
CURRENT_FILE = "current"
FAILED_FILE = "failed.json"
MEMBERS_DIR = "_members"  # personalised stickers, by member; never a pack slug (no "_" in slugs)
HASH = re.compile(r"^[0-9a-f]{64}$")
FORMAT = 1


@dataclass(frozen=True)
class BuiltFile:
    file: str  # relative to the build folder
    bytes: int
    width: int
    height: int


@dataclass(frozen=True)
class BuiltSticker:
    name: str  # file name without suffix, such as "01_robin"
    source: str
    emojis: tuple[str, ...]
    alt: str
    files: dict[str, BuiltFile]  # by platform name
    preview: BuiltFile


@dataclass(frozen=True)
class BuiltPersonal:
    emojis: tuple[str, ...]
    alt: str
    box: tuple[int, int, int, int]  # on the canvas of base
    color: str
    outline: str | None
    font: str | None
    base: str
    preview: BuiltFile


@dataclass(frozen=True)
class BuiltPack:
    slug: str
    hash: str
    folder: Path
    title: str
    publisher: str
    description: str
    telegram_name: str
    stickers: tuple[BuiltSticker, ...]
    cover: int  # index into stickers
    tray: BuiltFile
    thumbnail: BuiltFile
    personal: BuiltPersonal | None
    zips: dict[str, BuiltFile]
    built_at: str

    def path(self, relative: str) -> Path:
        """A file of this build; ``relative`` always comes from the build's own record."""
        return self.folder / relative

    @property
    def cover_sticker(self) -> BuiltSticker:
        return self.stickers[self.cover]

    def previews(self) -> dict[str, BuiltFile]:
        """Every preview by the name the site uses in its URL."""
        shown = {sticker.name: sticker.preview for sticker in self.stickers}
        if self.personal:
            shown["personal"] = self.personal.preview
        return shown

    @property
    def sticker_count(self) -> int:
        return len(self.stickers) + (1 if self.personal else 0)


def to_record(pack: BuiltPack) -> dict[str, Any]:
    record = asdict(pack)
    record.pop("folder")
    record["format"] = FORMAT
    return record


def _file(data: dict[str, Any]) -> BuiltFile:
    return BuiltFile(str(data["file"]), int(data["bytes"]), int(data["width"]), int(data["height"]))


def from_record(folder: Path, data: dict[str, Any]) -> BuiltPack:
    """Rebuild a :class:`BuiltPack` from ``pack.json``; raises KeyError/TypeError/ValueError
    on a record of another format."""
    if data.get("format") != FORMAT:
        raise ValueError(f"unknown build record format {data.get('format')!r}")
    personal = data.get("personal")
    return BuiltPack(
        slug=str(data["slug"]),
        hash=str(data["hash"]),
        folder=folder,
        title=str(data["title"]),
        publisher=str(data["publisher"]),
        description=str(data["description"]),
        telegram_name=str(data["telegram_name"]),
        stickers=tuple(
            BuiltSticker(
                str(s["name"]),
                str(s["source"]),
                tuple(s["emojis"]),
                str(s["alt"]),
                {k: _file(v) for k, v in s["files"].items()},
                _file(s["preview"]),
            )
            for s in data["stickers"]
        ),
        cover=int(data["cover"]),
        tray=_file(data["tray"]),
        thumbnail=_file(data["thumbnail"]),
        personal=None
        if personal is None
        else BuiltPersonal(
            tuple(personal["emojis"]),
            str(personal["alt"]),
            (
                int(personal["box"][0]),
                int(personal["box"][1]),
                int(personal["box"][2]),
                int(personal["box"][3]),
            ),
            str(personal["color"]),
            personal.get("outline"),
            personal.get("font"),
            str(personal["base"]),
            _file(personal["preview"]),
        ),
        zips={k: _file(v) for k, v in data["zips"].items()},
        built_at=str(data["built_at"]),
    )


def current_hash(root: Path, slug: str) -> str | None:
    """The hash of the pack's newest complete build, or None."""
    try:
        value = (root / slug / CURRENT_FILE).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return value if HASH.match(value) and (root / slug / value / BUILD_FILE).is_file() else None


def read_build(root: Path, slug: str, build_hash: str | None = None) -> BuiltPack | None:
    """The pack's current build (or the one named ``build_hash``), or None when there is none
    or its record cannot be read."""
    build_hash = build_hash or current_hash(root, slug)
    if build_hash is None or not HASH.match(build_hash):
        return None
    folder = root / slug / build_hash
    try:
        data = json.loads((folder / BUILD_FILE).read_text(encoding="utf-8"))
        return from_record(folder, data)
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def read_failure(root: Path, slug: str) -> dict[str, Any] | None:
    """What the last failed build of the pack recorded, or None when the last build worked."""
    try:
        data = json.loads((root / slug / FAILED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
