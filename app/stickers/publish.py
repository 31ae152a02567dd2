"""Finishing a build: the record, the manifests and the zips, a last check of every limit, and
the atomic switch from the temporary folder to ``instance/stickers/<slug>/<hash>/``.

A failed build removes its temporary folder and records why in ``failed.json``; the previous
build, if any, stays current. Nothing half-written is ever visible under a build's name.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from app.stickers import limits
from app.stickers.builds import (
    BUILD_FILE,
    CURRENT_FILE,
    FAILED_FILE,
    HASH,
    BuiltFile,
    BuiltPack,
    BuiltPersonal,
    BuiltSticker,
    to_record,
)
from app.stickers.errors import PackProblem
from app.stickers.manifests import SiteLinks
from app.stickers.spec import PackSpec
from app.stickers.worker import IconResult, Output, PersonalResult, StickerResult
from app.stickers.zips import platform_entries, write_zip

MANIFEST_FILES = {
    "whatsapp": "whatsapp/contents.json",
    "telegram": "telegram/stickerset.json",
    "signal": "signal/manifest.json",
}
TRANSIENT_RULES = frozenset({"worker", "write", "memory"})


def _file(output: Output) -> BuiltFile:
    return BuiltFile(output.file, output.bytes, output.width, output.height)


def assemble(
    spec: PackSpec,
    build_hash: str,
    folder: Path,
    stickers: dict[int, tuple[str, StickerResult]],
    icons: IconResult,
    personal: PersonalResult | None,
) -> BuiltPack:
    """The build record of a pack whose every task succeeded."""
    built = tuple(
        BuiltSticker(
            name,
            sticker.file,
            sticker.emojis,
            sticker.alt,
            {p: _file(o) for p, o in stickers[sticker.position][1].outputs.items()},
            _file(stickers[sticker.position][1].preview),
        )
        for sticker in spec.stickers
        for name in [stickers[sticker.position][0]]
    )
    files = [s.file for s in spec.stickers]
    cover = files.index(spec.tray) if spec.tray in files else 0
    return BuiltPack(
        slug=spec.slug,
        hash=build_hash,
        folder=folder,
        title=spec.title,
        publisher=spec.publisher,
        description=spec.description,
        telegram_name=spec.telegram_name,
        stickers=built,
        cover=cover,
        tray=_file(icons.tray),
        thumbnail=_file(icons.thumbnail),
        personal=None
        if spec.personal is None or personal is None
        else BuiltPersonal(
            spec.personal.emojis,
            spec.personal.alt,
            personal.box,
            spec.personal.color,
            spec.personal.outline,
            personal.font,
            personal.base.file,
            _file(personal.preview),
        ),
        zips={},
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def verify(pack: BuiltPack) -> list[PackProblem]:
    """Check every output on disk against its platform's limits (the encoder guarantees them;
    this makes sure nothing else broke the promise)."""
    problems = []
    for sticker in pack.stickers:
        for platform in limits.PLATFORMS:
            output = sticker.files[platform.name]
            size = pack.path(output.file).stat().st_size
            square_ok = (output.width, output.height) == (limits.CANVAS, limits.CANVAS)
            tall_ok = (
                max(output.width, output.height) == limits.CANVAS
                and min(output.width, output.height) <= limits.CANVAS
            )
            if size > platform.max_sticker_bytes or not (square_ok if platform.square else tall_ok):
                problems.append(
                    PackProblem(
                        pack.slug,
                        sticker.source,
                        "limits",
                        f"the {platform.label} sticker is {output.width}x{output.height}, "
                        f"{size:,} bytes, outside {platform.label}'s limits",
                    )
                )
    for icon, limit in (
        (pack.tray, limits.WHATSAPP_TRAY_MAX_BYTES),
        (pack.thumbnail, limits.TELEGRAM_THUMBNAIL_MAX_BYTES),
    ):
        if pack.path(icon.file).stat().st_size > limit:
            problems.append(
                PackProblem(pack.slug, icon.file, "limits", f"is larger than {limit:,} bytes")
            )
    return problems


def write_downloads(pack: BuiltPack, links: SiteLinks) -> BuiltPack:
    """Write each platform's manifest and zip into the build folder; return the record with
    the zips listed."""
    zips = {}
    for platform in limits.PLATFORMS:
        entries = platform_entries(pack, platform.name, None, links)
        manifest_name, manifest_bytes = entries[0]
        assert isinstance(manifest_bytes, bytes) and manifest_name.endswith(".json")
        pack.path(MANIFEST_FILES[platform.name]).write_bytes(manifest_bytes)
        target = pack.path(f"{platform.name}.zip")
        write_zip(target, entries)
        zips[platform.name] = BuiltFile(target.name, target.stat().st_size, 0, 0)
    return replace(pack, zips=zips)


def _replace_text(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def publish(pack: BuiltPack, pack_dir: Path) -> Path:
    """Write the record, rename the temporary folder to the hash, point ``current`` at it and
    remove older builds. Returns the build folder."""
    (pack.folder / BUILD_FILE).write_text(
        json.dumps(to_record(pack), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    target = pack_dir / pack.hash
    if target.exists():  # a forced rebuild of the same content: swap it out first
        retired = pack_dir / f".retired-{secrets.token_hex(6)}"
        os.rename(target, retired)
        os.rename(pack.folder, target)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.rename(pack.folder, target)
    _replace_text(pack_dir / CURRENT_FILE, pack.hash + "\n")
    (pack_dir / FAILED_FILE).unlink(missing_ok=True)
    for other in pack_dir.iterdir():
        if other.is_dir() and HASH.match(other.name) and other.name != pack.hash:
            shutil.rmtree(other, ignore_errors=True)
    return target


def record_failure(pack_dir: Path, build_hash: str | None, problems: list[PackProblem]) -> None:
    """Remember why the pack's last build failed; the pages and ``check`` report it."""
    pack_dir.mkdir(parents=True, exist_ok=True)
    document = {
        "hash": build_hash,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "problems": [
            {"file": p.file, "rule": p.rule, "message": p.message, "line": p.line} for p in problems
        ],
    }
    _replace_text(pack_dir / FAILED_FILE, json.dumps(document, ensure_ascii=False, indent=2))


def remembered_failure(pack_dir: Path, build_hash: str, slug: str) -> list[PackProblem] | None:
    """The problems of the last build when it failed on exactly this content for reasons that
    would fail again (not a crashed worker or a full disk); None otherwise."""
    try:
        document = json.loads((pack_dir / FAILED_FILE).read_text(encoding="utf-8"))
        if document.get("hash") != build_hash:
            return None
        problems = [
            PackProblem(slug, str(p["file"]), str(p["rule"]), str(p["message"]), p.get("line"))
            for p in document["problems"]
        ]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if not problems or any(p.rule in TRANSIENT_RULES for p in problems):
        return None
    return problems


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
