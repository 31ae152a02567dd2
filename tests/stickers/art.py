"""Test art: small packs written on the fly, and every bad input the build must refuse."""

from __future__ import annotations

import json
import os
import random
import struct
import zlib
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def shape(
    path: Path,
    size: tuple[int, int] = (96, 96),
    colour: str = "#d2452b",
    background: tuple[int, int, int, int] = (0, 0, 0, 0),
    fmt: str = "PNG",
) -> Path:
    """A filled ellipse on a transparent (or given) background."""
    image = Image.new("RGBA", size, background)
    ImageDraw.Draw(image).ellipse((4, 4, size[0] - 5, size[1] - 5), fill=colour)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "JPEG":
        image.convert("RGB").save(path, "JPEG", quality=90)
    else:
        image.save(path, fmt)
    return path


def toml_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def write_pack(
    stickers_dir: Path,
    slug: str,
    stickers: list[dict[str, Any]] | int = 3,
    personal: dict[str, Any] | None = None,
    draw: bool = True,
    **top: Any,
) -> Path:
    """Write ``stickers/<slug>/pack.toml`` (and, with ``draw``, one shape per sticker)."""
    folder = stickers_dir / slug
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(stickers, int):
        colours = ("#d2452b", "#2b7bd2", "#3bb273", "#f2b134", "#8e5fd1")
        stickers = [
            {"file": f"s{n}.png", "emojis": ["🐦"], "alt": f"Shape {n}"}
            for n in range(1, stickers + 1)
        ]
        if draw:
            for n, sticker in enumerate(stickers):
                shape(folder / sticker["file"], colour=colours[n % len(colours)])
    values = {
        "title": slug.replace("-", " ").title(),
        "publisher": "Test publisher",
        "unlocked_by": [f"code:{slug}"],
        **top,
    }
    lines = [f"{key} = {toml_value(value)}" for key, value in values.items() if value is not None]
    for sticker in stickers:
        lines.append("")
        lines.append("[[sticker]]")
        lines += [f"{key} = {toml_value(value)}" for key, value in sticker.items()]
    if personal is not None:
        lines += ["", "[personal]"] + [f"{k} = {toml_value(v)}" for k, v in personal.items()]
    (folder / "pack.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


# --- bad inputs ---------------------------------------------------------------------------------


def truncated_png(path: Path) -> Path:
    shape(path, size=(300, 300))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def truncated_jpeg(path: Path) -> Path:
    image = Image.effect_noise((400, 400), 60).convert("RGB")
    image.save(path, "JPEG", quality=90)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def text_as_png(path: Path) -> Path:
    path.write_text("This is a shopping list, not a picture.\nEggs\nFlour\n")
    return path


SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
    '<circle cx="50" cy="50" r="40" fill="red"/></svg>\n'
)


def svg(path: Path) -> Path:
    path.write_text(SVG)
    return path


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def zero_filled_png(path: Path, side: int = 10_000) -> Path:
    """A ``side`` x ``side`` greyscale PNG of zeros: about 95 KB on disk, 100 MB decoded.
    Written row by row, so making it takes no more memory than reading it should."""
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\x00" * (side + 1)  # filter byte + pixels
    parts = [compressor.compress(row) for _ in range(side)]
    parts.append(compressor.flush())
    path.write_bytes(
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )
    return path


def huge_header_png(path: Path) -> Path:
    """A PNG whose header claims 65535 x 65535 pixels, with almost no data behind it."""
    header = struct.pack(">IIBBBBB", 65535, 65535, 8, 6, 0, 0, 0)
    data = zlib.compress(b"\x00" * 1024)
    path.write_bytes(
        PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")
    )
    return path


def alpha_noise(path: Path, side: int = 512, seed: int = 5) -> Path:
    """Noise in every channel, transparency included: no WebP setting shrinks it enough."""
    data = random.Random(seed).randbytes(side * side * 4)
    Image.frombytes("RGBA", (side, side), data).save(path, "PNG")
    return path


def photo_jpeg(
    path: Path, size: tuple[int, int] = (4000, 3000), orientation: int | None = None, seed: int = 1
) -> Path:
    """A photo-like JPEG (gradient, shapes, grain), optionally with an EXIF orientation."""
    generator = random.Random(seed)
    small = Image.linear_gradient("L").resize((size[0] // 8, size[1] // 8)).convert("RGB")
    draw = ImageDraw.Draw(small)
    for _ in range(40):
        x, y = generator.randrange(small.width), generator.randrange(small.height)
        r = generator.randrange(5, max(6, small.width // 6))
        draw.ellipse(
            (x - r, y - r, x + r, y + r), fill=tuple(generator.randrange(256) for _ in range(3))
        )
    image = small.resize(size, Image.Resampling.BILINEAR)
    grain = Image.effect_noise(size, 18).convert("RGB")
    image = Image.blend(image, grain, 0.12)
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(path, "JPEG", quality=88, exif=exif.tobytes())
    return path


def listing(folder: Path) -> set[str]:
    """Every path under ``folder``, relative, for before/after comparisons."""
    if not folder.exists():
        return set()
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def link_outside(link: Path, target: Path) -> Path:
    os.symlink(target, link)
    return link
