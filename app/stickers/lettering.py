"""Drawing a member's name into the personalised sticker's text box.

The name is set in the pack's font (a ``.ttf``/``.otf`` shipped in the pack) or in Pillow's
bundled scalable default font, at the largest size that fits the box, centred; a name too long
for the box at the smallest size is shortened with an ellipsis. Plain Pillow: no Flask.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

MIN_SIZE = 10
MAX_NAME = 80
Font = ImageFont.FreeTypeFont | ImageFont.TransposedFont | ImageFont.ImageFont


def clean_name(name: str) -> str:
    """The name as drawn: control and format characters removed, spaces collapsed, at most
    80 characters."""
    visible = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    return " ".join(visible.split())[:MAX_NAME]


@lru_cache(maxsize=128)
def load_font(path: Path | None, size: int) -> Font:
    if path is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(str(path), size)


def _fits(
    draw: ImageDraw.ImageDraw,
    text: str,
    font_path: Path | None,
    box: tuple[int, int, int, int],
    outline: str | None,
    size: int,
) -> bool:
    stroke = _stroke(size, outline)
    left, top, right, bottom = draw.textbbox(
        (0, 0), text, font=load_font(font_path, size), stroke_width=stroke, anchor="mm"
    )
    return right - left <= box[2] - box[0] and bottom - top <= box[3] - box[1]


def _stroke(size: int, outline: str | None) -> int:
    return max(1, size // 14) if outline else 0


def _shortened(
    draw: ImageDraw.ImageDraw,
    text: str,
    font_path: Path | None,
    box: tuple[int, int, int, int],
    outline: str | None,
) -> str:
    """``text``, or its longest start that fits at the smallest size, with an ellipsis."""
    if _fits(draw, text, font_path, box, outline, MIN_SIZE):
        return text
    good, bad = 0, len(text)
    while bad - good > 1:
        middle = (good + bad) // 2
        if _fits(draw, text[:middle].rstrip() + "…", font_path, box, outline, MIN_SIZE):
            good = middle
        else:
            bad = middle
    return text[: max(good, 1)].rstrip() + "…"


def _largest_size(
    draw: ImageDraw.ImageDraw,
    text: str,
    font_path: Path | None,
    box: tuple[int, int, int, int],
    outline: str | None,
) -> int:
    """The largest font size at which ``text`` fits ``box`` (at least MIN_SIZE), by bisection."""
    good, bad = MIN_SIZE, max(MIN_SIZE, box[3] - box[1]) + 1
    while bad - good > 1:
        middle = (good + bad) // 2
        if _fits(draw, text, font_path, box, outline, middle):
            good = middle
        else:
            bad = middle
    return good


def draw_name(
    base: Image.Image,
    name: str,
    box: tuple[int, int, int, int],
    color: str,
    outline: str | None = None,
    font_path: Path | None = None,
) -> Image.Image:
    """A copy of ``base`` with ``name`` drawn centred in ``box`` (pixels of ``base``)."""
    image = base.copy()
    draw = ImageDraw.Draw(image)
    text = _shortened(draw, clean_name(name) or "?", font_path, box, outline)
    size = _largest_size(draw, text, font_path, box, outline)
    centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    draw.text(
        centre,
        text,
        fill=color,
        font=load_font(font_path, size),
        anchor="mm",
        stroke_width=_stroke(size, outline),
        stroke_fill=outline,
    )
    return image
