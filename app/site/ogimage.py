"""OpenGraph cards: a 1200×630 PNG per post without an ``image``, drawn with Pillow (title, site
name and first tag), cached in ``instance/og`` under a hash of what is drawn."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import ImageDraw

WIDTH, HEIGHT = 1200, 630
VERSION = "1"
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/Library/Fonts"),
    Path("C:/Windows/Fonts"),
)
BACKGROUND = (250, 248, 243)
INK = (30, 29, 26)
MUTED = (95, 92, 85)
ACCENT = (168, 63, 27)


def _font(size: int, bold: bool) -> Any:
    from PIL import ImageFont

    names = (
        ("DejaVuSans-Bold.ttf", "Arial Bold.ttf", "arialbd.ttf")
        if bold
        else ("DejaVuSans.ttf", "Arial.ttf", "arial.ttf")
    )
    for folder in FONT_DIRS:
        for name in names:
            path = folder / name
            if path.exists():
                return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Any, width: int, lines: int) -> list[str]:
    words, result, line = text.split(), [], ""
    for word in words:
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not line:
            line = trial
        else:
            result.append(line)
            line = word
    if line:
        result.append(line)
    if len(result) > lines:
        result = result[:lines]
        result[-1] = result[-1].rstrip(",.;:") + "…"
    return result


def draw_card(title: str, site_name: str, label: str | None) -> bytes:
    """The PNG bytes of one card."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 18), fill=ACCENT)
    margin = 90
    if label:
        draw.text((margin, 90), label.upper(), font=_font(30, True), fill=ACCENT)
    size = 72 if len(title) <= 40 else 60
    font = _font(size, True)
    lines = _wrap(draw, title, font, WIDTH - 2 * margin, 4 if size == 60 else 3)
    y = 160
    for line in lines:
        draw.text((margin, y), line, font=font, fill=INK)
        y += int(size * 1.2)
    draw.rectangle((margin, HEIGHT - 120, margin + 36, HEIGHT - 84), fill=ACCENT)
    draw.text((margin + 56, HEIGHT - 124), site_name, font=_font(36, True), fill=MUTED)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def card_key(*parts: str) -> str:
    digest = hashlib.blake2b("\x1f".join((VERSION, *parts)).encode(), digest_size=12)
    return digest.hexdigest()


def cached_card(
    folder: Path, title: str, site_name: str, label: str | None, source_hash: str
) -> bytes:
    """The card for this content, drawn once and kept in ``folder`` under its hash."""
    key = card_key(source_hash, title, site_name, label or "")
    path = folder / f"{key}.png"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    data = draw_card(title, site_name, label)
    folder.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".card-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)
    return data
