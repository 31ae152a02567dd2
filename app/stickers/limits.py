"""What each messenger accepts, in one place: the acceptance limits of every build.

A pack is built for all three platforms at once, so a pack spec must satisfy the strictest of
them (3 to 30 stickers, 1 to 3 emoji per sticker, titles up to 64 characters). Sizes are in
bytes; ``KiB`` is 1024 bytes and ``KB`` 1000, as the platforms state them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KiB = 1024
KB = 1000

CANVAS = 512
"""Every sticker's long side."""
MARGIN = 16
"""Transparent border around the art on every canvas, so outlines are never clipped."""
CONTENT = CANVAS - 2 * MARGIN

PREVIEW_SIZE = 256
PREVIEW_QUALITY = 75


@dataclass(frozen=True)
class Platform:
    name: str  # used in folder, zip and URL names
    label: str  # shown to people
    max_sticker_bytes: int
    square: bool  # exactly CANVAS x CANVAS; otherwise one side CANVAS, the other at most CANVAS
    min_stickers: int
    max_stickers: int
    max_emoji: int


WHATSAPP = Platform("whatsapp", "WhatsApp", 100 * KiB, True, 3, 30, 3)
TELEGRAM = Platform("telegram", "Telegram", 512 * KiB, False, 1, 120, 20)
SIGNAL = Platform("signal", "Signal", 300 * KiB, True, 1, 200, 1)
PLATFORMS: tuple[Platform, ...] = (WHATSAPP, TELEGRAM, SIGNAL)
PLATFORMS_BY_NAME = {p.name: p for p in PLATFORMS}

# The strictest of the three, which every pack spec must meet.
MIN_STICKERS = max(p.min_stickers for p in PLATFORMS)  # 3 (WhatsApp)
MAX_STICKERS = min(p.max_stickers for p in PLATFORMS)  # 30 (WhatsApp)
MAX_EMOJI = 3  # WhatsApp; Telegram takes 20 and Signal the first one
TELEGRAM_INITIAL_STICKERS = 50  # createNewStickerSet takes 1 to 50 initial stickers

WHATSAPP_TRAY = 96
WHATSAPP_TRAY_MAX_BYTES = 50 * KB
TELEGRAM_THUMBNAIL = 100
TELEGRAM_THUMBNAIL_MAX_BYTES = 128 * KB

MAX_TITLE = 64  # Telegram title 1-64; WhatsApp name up to 128
MAX_PUBLISHER = 128  # WhatsApp publisher
MAX_DESCRIPTION = 1000
MAX_ALT = 125  # WhatsApp accessibility_text of a static sticker
TELEGRAM_SET_NAME_MAX = 64

# Quality search: start at 80 and go down to the floor; then lower alpha_quality; then shrink.
START_QUALITY = 80
QUALITY_FLOOR = 30
ALPHA_QUALITIES = (100, 75, 50)
CONTENT_SCALES = (1.0, 0.9, 0.8)
WEBP_METHOD = 4  # never 6: with alpha it is about 100 times slower for 3-5% smaller files

ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP")
ALLOWED_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
FONT_SUFFIXES = (".ttf", ".otf")

TELEGRAM_BOT = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")


def telegram_set_name(slug: str, bot: str) -> str:
    """The sticker set name Telegram requires: ``[A-Za-z0-9_]``, starting with a letter, no
    ``__``, ending in ``_by_<bot>``. The slug's hyphens become underscores."""
    base = re.sub(r"_+", "_", slug.replace("-", "_")).strip("_")
    if not base[:1].isalpha():
        base = "pack_" + base
    return f"{base}_by_{bot}"


def telegram_set_name_problem(name: str) -> str | None:
    """None when ``name`` is a valid Telegram sticker set name, else the reason."""
    if len(name) > TELEGRAM_SET_NAME_MAX:
        return f"{len(name)} characters; Telegram allows at most {TELEGRAM_SET_NAME_MAX}"
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        return "Telegram allows only letters, digits and underscores, starting with a letter"
    if "__" in name:
        return "Telegram does not allow two underscores in a row"
    return None
