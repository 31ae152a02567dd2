"""The Pillow pipeline: open art safely, fit it on a canvas, encode it under a byte limit.

Every function takes and returns plain values and images; nothing here knows packs or Flask, so
the functions run as well in a worker process as in a request.

Opening is defensive: an explicit format list (PNG, JPEG, WebP), a pixel cap checked on the
header before any pixel is decoded, Pillow's decompression-bomb warning turned into an error,
still images only, EXIF orientation applied, and JPEG ``draft()`` so a 12 MP photo is decoded
at the reduced scale it will be shown at. Failures raise :class:`ArtRejected` with the rule.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from app.stickers import limits
from app.stickers.errors import ArtRejected

ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file is an error, never half a picture
LANCZOS = Image.Resampling.LANCZOS
REDUCING_GAP = 3.0  # integer pre-reduction before LANCZOS: faster, same look at this gap
BROKEN = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    zlib.error,
    IndexError,
    TypeError,
    KeyError,
)


@dataclass(frozen=True)
class ArtInfo:
    format: str
    width: int  # as stored, before EXIF orientation
    height: int
    transparent: bool


@dataclass(frozen=True)
class Encoded:
    data: bytes
    width: int
    height: int
    quality: int
    alpha_quality: int
    scale: float

    @property
    def first_try(self) -> bool:
        """Whether the starting settings fitted, so any larger limit gives these same bytes."""
        return (
            self.quality == limits.START_QUALITY
            and self.scale == 1.0
            and self.alpha_quality == limits.ALPHA_QUALITIES[0]
        )


def open_art(path: Path, max_pixels: int, box: int = limits.CONTENT) -> tuple[Image.Image, ArtInfo]:
    """Open ``path`` as an RGBA image, upright, decoded at no less than ``box`` pixels a side
    where the format allows a reduced decode. Raises :class:`ArtRejected`."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(path, formats=limits.ALLOWED_FORMATS)
        except UnidentifiedImageError:
            raise ArtRejected(
                "format",
                "is not a PNG, JPEG or WebP image (the file's contents decide, not its name)",
            ) from None
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise ArtRejected("pixels", f"claims too many pixels to open safely ({exc})") from None
        except BROKEN as exc:
            raise ArtRejected("decode", f"cannot be read: {exc}") from None
    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise ArtRejected(
                "pixels",
                f"is {width}x{height} ({width * height:,} pixels); at "
                f"most {max_pixels:,} are opened",
            )
        if getattr(image, "n_frames", 1) > 1:
            raise ArtRejected("format", "is animated; stickers here are still images")
        info = ArtInfo(str(image.format), width, height, _has_alpha(image))
        try:
            if image.format == "JPEG":
                image.draft("RGB", (box, box))
            image.load()
            upright = ImageOps.exif_transpose(image)
        except BROKEN as exc:
            raise ArtRejected("decode", f"is damaged or truncated: {exc}") from None
    if upright.mode == "RGBA":
        return upright, info
    try:
        return upright.convert("RGBA"), info
    except ValueError:
        raise ArtRejected(
            "format", f"uses the colour mode {upright.mode}; save it as 8-bit RGB or RGBA"
        ) from None


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def trim(image: Image.Image) -> Image.Image:
    """Cut away fully transparent borders. Raises :class:`ArtRejected` for an empty image."""
    bbox = image.getchannel("A").getbbox()
    if bbox is None:
        raise ArtRejected("empty", "is fully transparent: there is nothing to show")
    return image if bbox == (0, 0, *image.size) else image.crop(bbox)


def fit(art: Image.Image, box: int) -> Image.Image:
    """Scale ``art`` (already trimmed) so its long side is ``box`` pixels, keeping its alpha."""
    width, height = art.size
    ratio = box / max(width, height)
    size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
    if size == art.size:
        return art
    return art.resize(size, LANCZOS, reducing_gap=REDUCING_GAP)


def on_canvas(content: Image.Image, square: bool) -> Image.Image:
    """Centre ``content`` on a transparent canvas: ``CANVAS`` square, or (for Telegram) one
    side ``CANVAS`` and the other just as large as the art needs."""
    if square:
        size = (limits.CANVAS, limits.CANVAS)
    else:  # the same padding on both axes: the long side is exactly CANVAS
        pad = limits.CANVAS - max(content.size)
        size = (min(limits.CANVAS, content.width + pad), min(limits.CANVAS, content.height + pad))
    canvas = Image.new("RGBA", size, (0, 0, 0, 0))
    canvas.paste(content, ((size[0] - content.width) // 2, (size[1] - content.height) // 2))
    return canvas


def webp(image: Image.Image, quality: int, alpha_quality: int = 100) -> bytes:
    """Encode a still WebP with method 4 (never 6: far slower with alpha for little gain)."""
    buffer = io.BytesIO()
    image.save(
        buffer, "WEBP", quality=quality, alpha_quality=alpha_quality, method=limits.WEBP_METHOD
    )
    return buffer.getvalue()


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _best_quality(image: Image.Image, alpha_quality: int, limit: int) -> tuple[int, bytes] | None:
    """The highest quality from START_QUALITY down to QUALITY_FLOOR whose WebP fits ``limit``,
    by bisection; None when even the floor does not fit."""
    data = webp(image, limits.START_QUALITY, alpha_quality)
    if len(data) <= limit:
        return limits.START_QUALITY, data
    floor = webp(image, limits.QUALITY_FLOOR, alpha_quality)
    if len(floor) > limit:
        return None
    good, good_data, bad = limits.QUALITY_FLOOR, floor, limits.START_QUALITY
    while bad - good > 1:
        middle = (good + bad) // 2
        data = webp(image, middle, alpha_quality)
        if len(data) <= limit:
            good, good_data = middle, data
        else:
            bad = middle
    return good, good_data


def encode_within(render: Callable[[float], Image.Image], limit: int, label: str) -> Encoded:
    """Encode the image ``render(scale)`` draws as a WebP of at most ``limit`` bytes.

    Searches the quality from 80 down; if the floor is not enough, lowers ``alpha_quality``;
    then shrinks the content (``scale`` below 1). Raises :class:`ArtRejected` (rule ``bytes``)
    when nothing fits; the message names ``label`` (the platform).
    """
    for scale in limits.CONTENT_SCALES:
        image = render(scale)
        opaque = image.getchannel("A").getextrema() == (255, 255)
        for alpha_quality in limits.ALPHA_QUALITIES[:1] if opaque else limits.ALPHA_QUALITIES:
            found = _best_quality(image, alpha_quality, limit)
            if found is not None:
                quality, data = found
                return Encoded(data, image.width, image.height, quality, alpha_quality, scale)
    raise ArtRejected(
        "bytes",
        f"cannot be made smaller than {label}'s limit of "
        f"{limit // limits.KiB} KiB, even at quality "
        f"{limits.QUALITY_FLOOR}, alpha quality "
        f"{limits.ALPHA_QUALITIES[-1]} and "
        f"{round(limits.CONTENT_SCALES[-1] * 100)}% of its size",
    )


Render = Callable[[float], Image.Image]


def fitter(art: Image.Image) -> Render:
    """``fitted(scale)``: the art fitted into ``scale`` of the content box, each size resized
    once however many canvases use it."""
    cache: dict[float, Image.Image] = {}

    def fitted(scale: float) -> Image.Image:
        if scale not in cache:
            cache[scale] = fit(art, round(limits.CONTENT * scale))
        return cache[scale]

    return fitted


def sticker_renderer(art: Image.Image | Render, square: bool) -> Render:
    """``render(scale)`` for :func:`encode_within`: the art (or a :func:`fitter` of it) fitted
    at ``scale`` of the content box, on the platform's canvas."""
    fitted = fitter(art) if isinstance(art, Image.Image) else art
    cache: dict[float, Image.Image] = {}

    def render(scale: float) -> Image.Image:
        if scale not in cache:
            cache[scale] = on_canvas(fitted(scale), square)
        return cache[scale]

    return render


def icon(art: Image.Image, size: int, limit: int, label: str) -> bytes:
    """A square PNG icon (WhatsApp's tray, Telegram's thumbnail) of ``size`` pixels."""
    content = fit(art, size - 4)
    canvas = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    canvas.paste(content, ((size - content.width) // 2, (size - content.height) // 2))
    data = png(canvas)
    if len(data) > limit:  # cannot happen at these sizes; checked so it can never ship
        raise ArtRejected("bytes", f"{label} is {len(data):,} bytes; the limit is {limit:,}")
    return data


def preview(canvas: Image.Image) -> bytes:
    """The small WebP shown on the site."""
    small = canvas.resize((limits.PREVIEW_SIZE, limits.PREVIEW_SIZE), LANCZOS)
    return webp(small, limits.PREVIEW_QUALITY)
