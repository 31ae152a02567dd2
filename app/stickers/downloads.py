"""What a download sends: the build's zip, or a member's own zip with their personalised sticker.

Every path comes from a build record, never from a request: the caller passes a pack it looked
up by slug among the known packs, and a platform name checked against the fixed list. The ETag
names the build, the platform and (for a personalised zip) the member's rendering, so a member
who asks again for the same zip gets "304 Not Modified" without any work.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path

from app.stickers import limits, personal
from app.stickers.builds import BuiltPack
from app.stickers.errors import ArtRejected
from app.stickers.manifests import SiteLinks
from app.stickers.zips import platform_entries, write_zip

log = logging.getLogger("pullfirst.stickers")


@dataclass(frozen=True)
class Download:
    """Either ``path`` (a zip in the build folder) or ``data`` (a member's zip) is set."""

    filename: str
    etag: str
    path: Path | None = None
    data: bytes | None = None


def filename(pack: BuiltPack, platform: str) -> str:
    return f"{pack.slug}-{platform}.zip"


def etag(pack: BuiltPack, platform: str, member_name: str | None) -> str:
    """The download's entity tag; computed without rendering anything."""
    if pack.personal is None or member_name is None:
        return f"{pack.hash[:32]}-{platform}"
    return f"{pack.hash[:20]}-{personal.cached_key(pack, member_name)[:20]}-{platform}"


def download(
    pack: BuiltPack,
    platform: str,
    output_dir: Path,
    member_id: int,
    member_name: str,
    links: SiteLinks,
) -> Download:
    """The zip of ``pack`` for ``platform`` as ``member_id`` should get it: with their
    personalised sticker when the pack has one (and it can be made), else the build's zip.
    Raises ``KeyError`` for an unknown platform."""
    if platform not in limits.PLATFORMS_BY_NAME:
        raise KeyError(platform)
    shared = Download(
        filename(pack, platform),
        etag(pack, platform, None),
        path=pack.path(pack.zips[platform].file),
    )
    if pack.personal is None:
        return shared
    try:
        extra = personal.personal_sticker(pack, output_dir, member_id, member_name)
    except ArtRejected as exc:  # the pack is still worth having without it
        log.warning(
            "personalised sticker of %s not made for member %s: %s", pack.slug, member_id, exc
        )
        return shared
    buffer = io.BytesIO()
    write_zip(buffer, platform_entries(pack, platform, extra, links))
    return Download(
        filename(pack, platform), etag(pack, platform, member_name), data=buffer.getvalue()
    )
