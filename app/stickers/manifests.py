"""The files each messenger's tools read, made from a build record.

- WhatsApp: ``contents.json`` in the layout of WhatsApp's sample sticker app (its ``assets``
  folder: ``contents.json`` beside one folder per pack identifier holding the WebPs and the
  tray icon).
- Telegram: ``stickerset.json`` with exactly the parameters of the Bot API's
  ``createNewStickerSet`` (``user_id`` is the future owner's Telegram id, which only they know,
  so it is ``null`` until they fill it in), each sticker an ``InputSticker`` attached by name.
- Signal: ``manifest.json`` with the fields of Signal's sticker pack manifest (title, author,
  cover, and one emoji per sticker), plus each sticker's file name.

A member's download may carry one more sticker, their personalised one (:class:`ExtraSticker`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.stickers.builds import BuiltPack


@dataclass(frozen=True)
class ExtraSticker:
    """A sticker added to one member's download: ``files`` by platform name."""

    name: str
    emojis: tuple[str, ...]
    alt: str
    files: dict[str, Path]
    digest: str  # identifies its pixels, so the manifest's version changes with them


@dataclass(frozen=True)
class SiteLinks:
    """Links WhatsApp shows with a pack; empty strings when unknown."""

    website: str = ""
    privacy_policy: str = ""


def entries(pack: BuiltPack, extra: ExtraSticker | None) -> list[tuple[str, tuple[str, ...], str]]:
    """(file name, emojis, alt) of every sticker in the download, in order."""
    listed = [(f"{s.name}.webp", s.emojis, s.alt) for s in pack.stickers]
    if extra is not None:
        listed.append((f"{extra.name}.webp", extra.emojis, extra.alt))
    return listed


def data_version(pack: BuiltPack, extra: ExtraSticker | None) -> str:
    """Changes whenever the stickers do, so WhatsApp refreshes its copy."""
    if extra is None:
        return pack.hash[:16]
    return hashlib.sha256(f"{pack.hash}:{extra.digest}".encode()).hexdigest()[:16]


def whatsapp_contents(
    pack: BuiltPack, extra: ExtraSticker | None, links: SiteLinks
) -> dict[str, Any]:
    return {
        "android_play_store_link": "",
        "ios_app_store_link": "",
        "sticker_packs": [
            {
                "identifier": pack.slug,
                "name": pack.title,
                "publisher": pack.publisher,
                "tray_image_file": "tray.png",
                "image_data_version": data_version(pack, extra),
                "avoid_cache": False,
                "publisher_email": "",
                "publisher_website": links.website,
                "privacy_policy_website": links.privacy_policy,
                "license_agreement_website": "",
                "animated_sticker_pack": False,
                "stickers": [
                    {"image_file": file, "emojis": list(emojis), "accessibility_text": alt}
                    for file, emojis, alt in entries(pack, extra)
                ],
            }
        ],
    }


def telegram_stickerset(pack: BuiltPack, extra: ExtraSticker | None) -> dict[str, Any]:
    return {
        "user_id": None,
        "name": pack.telegram_name,
        "title": pack.title,
        "stickers": [
            {"sticker": f"attach://{file}", "format": "static", "emoji_list": list(emojis)}
            for file, emojis, _ in entries(pack, extra)
        ],
        "sticker_type": "regular",
        "needs_repainting": False,
    }


def signal_manifest(pack: BuiltPack, extra: ExtraSticker | None) -> dict[str, Any]:
    stickers = [
        {"id": number, "file": file, "emoji": emojis[0], "contentType": "image/webp"}
        for number, (file, emojis, _) in enumerate(entries(pack, extra))
    ]
    return {
        "title": pack.title,
        "author": pack.publisher,
        "cover": stickers[pack.cover],
        "stickers": stickers,
    }


def encode(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
