"""One zip per platform: images stored as they are (they are compressed already), JSON deflated.

Entries carry a fixed date and mode, so the same build always gives byte-identical zips: the
ETag of a download is then the same on every host that built the pack.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from app.stickers import manifests
from app.stickers.builds import BuiltPack
from app.stickers.manifests import ExtraSticker, SiteLinks

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
Entry = tuple[str, bytes | Path]


def platform_entries(
    pack: BuiltPack, platform: str, extra: ExtraSticker | None, links: SiteLinks
) -> list[Entry]:
    """The files of one platform's download, as (name in the zip, bytes or file)."""
    stickers: list[Entry]
    if platform == "whatsapp":
        folder = pack.slug
        document = manifests.whatsapp_contents(pack, extra, links)
        stickers = [
            (f"{folder}/{s.name}.webp", pack.path(s.files[platform].file)) for s in pack.stickers
        ]
        if extra is not None:
            stickers.append((f"{folder}/{extra.name}.webp", extra.files[platform]))
        return [
            ("contents.json", manifests.encode(document)),
            *stickers,
            (f"{folder}/tray.png", pack.path(pack.tray.file)),
        ]
    if platform == "telegram":
        document = manifests.telegram_stickerset(pack, extra)
        tail: list[Entry] = [("thumbnail.png", pack.path(pack.thumbnail.file))]
        name = "stickerset.json"
    elif platform == "signal":
        document = manifests.signal_manifest(pack, extra)
        tail, name = [], "manifest.json"
    else:
        raise ValueError(f"unknown platform {platform!r}")
    stickers = [(f"{s.name}.webp", pack.path(s.files[platform].file)) for s in pack.stickers]
    if extra is not None:
        stickers.append((f"{extra.name}.webp", extra.files[platform]))
    return [(name, manifests.encode(document)), *stickers, *tail]


def write_zip(target: BinaryIO | Path, entries: Iterable[Entry]) -> None:
    """Write ``entries`` to ``target``: ``.json`` deflated, everything else stored."""
    with zipfile.ZipFile(target, "w") as archive:
        for name, content in entries:
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = (
                zipfile.ZIP_DEFLATED if name.endswith(".json") else zipfile.ZIP_STORED
            )
            data = content.read_bytes() if isinstance(content, Path) else content
            archive.writestr(info, data)
