"""The personalised sticker: a pack's base image with one member's name drawn into it.

It is rendered on the member's first download, from the build's own base image and font, and
kept in ``instance/stickers/_members/<member id>/<slug>/<key>/``, where the key covers the build
and the name: a new build or a new display name renders it again, and older renderings of that
pack are removed. Deleting a member removes their whole folder; each build (run on every host)
also removes the folders of members deleted elsewhere.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from app.accounts.models import Member
from app.extensions import db
from app.stickers import imaging, lettering, limits
from app.stickers.builds import MEMBERS_DIR, BuiltPack
from app.stickers.manifests import ExtraSticker

RENDERING_VERSION = "1"
DONE_FILE = "done"


def member_folder(output_dir: Path, member_id: int) -> Path:
    return output_dir / MEMBERS_DIR / str(int(member_id))


def _key(pack: BuiltPack, name: str) -> str:
    text = f"{RENDERING_VERSION}\0{pack.hash}\0{lettering.clean_name(name)}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _files(folder: Path) -> dict[str, Path]:
    return {p.name: folder / f"{p.name}.webp" for p in limits.PLATFORMS}


def _extra(pack: BuiltPack, key: str, folder: Path) -> ExtraSticker:
    assert pack.personal is not None
    return ExtraSticker(
        f"{len(pack.stickers) + 1:02d}_personal",
        pack.personal.emojis,
        pack.personal.alt,
        _files(folder),
        key,
    )


def render(pack: BuiltPack, name: str) -> dict[str, bytes]:
    """The member's sticker for every platform, each under its platform's limit."""
    personal = pack.personal
    assert personal is not None
    with Image.open(pack.path(personal.base), formats=["PNG"]) as base:
        canvas = base.convert("RGBA")
    font = pack.path(personal.font) if personal.font else None
    drawn = lettering.draw_name(canvas, name, personal.box, personal.color, personal.outline, font)
    square = imaging.sticker_renderer(imaging.trim(drawn), square=True)
    encoded: dict[str, bytes] = {}
    first = None
    for platform in limits.PLATFORMS:
        if first is not None and first.first_try:
            encoded[platform.name] = first.data
            continue
        result = imaging.encode_within(square, platform.max_sticker_bytes, platform.label)
        first = first or result
        encoded[platform.name] = result.data
    return encoded


def personal_sticker(pack: BuiltPack, output_dir: Path, member_id: int, name: str) -> ExtraSticker:
    """The member's personalised sticker for ``pack``, rendered now if it is not cached.

    Raises ``ValueError`` when the pack has no ``[personal]`` template, and
    :class:`~app.stickers.errors.ArtRejected` if the rendering cannot meet a limit.
    """
    if pack.personal is None:
        raise ValueError(f"pack {pack.slug} has no personalised sticker")
    key = _key(pack, name)
    pack_folder = member_folder(output_dir, member_id) / pack.slug
    folder = pack_folder / key
    if (folder / DONE_FILE).is_file():
        return _extra(pack, key, folder)
    images = render(pack, name)
    pack_folder.mkdir(parents=True, exist_ok=True)
    temporary = pack_folder / f".tmp-{secrets.token_hex(6)}"
    temporary.mkdir()
    for platform, data in images.items():
        (temporary / f"{platform}.webp").write_bytes(data)
    (temporary / DONE_FILE).touch()
    try:
        os.rename(temporary, folder)
    except OSError:  # rendered at the same moment by another request: keep theirs
        shutil.rmtree(temporary, ignore_errors=True)
    for other in pack_folder.iterdir():
        if other.name != key and not other.name.startswith(".tmp-"):
            shutil.rmtree(other, ignore_errors=True)
    return _extra(pack, key, folder)


def cached_key(pack: BuiltPack, name: str) -> str:
    """The key of the member's rendering, known without rendering (for the download's ETag)."""
    return _key(pack, name)


def remove_member(output_dir: Path, member_id: int) -> None:
    """Delete every personalised sticker of the member."""
    shutil.rmtree(member_folder(output_dir, member_id), ignore_errors=True)


def prune_departed_members(output_dir: Path) -> int:
    """Remove the personalised stickers of members who no longer exist (deleted through
    another host of the site, say); returns how many members' folders went."""
    root = output_dir / MEMBERS_DIR
    if not root.is_dir():
        return 0
    folders = {int(p.name): p for p in root.iterdir() if p.is_dir() and p.name.isdigit()}
    if not folders:
        return 0
    existing = set(db.session.scalars(select(Member.id).where(Member.id.in_(list(folders)))))
    departed = [folder for member_id, folder in folders.items() if member_id not in existing]
    for folder in departed:
        shutil.rmtree(folder, ignore_errors=True)
    return len(departed)


def personalised_packs(output_dir: Path, member_id: int) -> list[str]:
    """The packs for which the member has a personalised sticker."""
    folder = member_folder(output_dir, member_id)
    if not folder.is_dir():
        return []
    return sorted(
        child.name
        for child in folder.iterdir()
        if child.is_dir() and any((c / DONE_FILE).is_file() for c in child.iterdir())
    )
