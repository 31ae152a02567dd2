"""The baseline of ``bench/stickers_build.py``: the same Pillow conversion as the sticker build,
done by a minimal script with a plain process pool (two workers) and nothing else: no spec, no
hashing, no quality search beyond the first try, no manifests, no zips, no atomic publish.

    python bench/stickers_baseline.py SOURCES_DIR OUTPUT_DIR

Prints the seconds it took, as JSON.
"""

from __future__ import annotations

import json
import sys
import time
from multiprocessing import Pool
from pathlib import Path

from PIL import Image, ImageOps

LANCZOS = Image.Resampling.LANCZOS


def fit(art: Image.Image, box: int) -> Image.Image:
    ratio = box / max(art.size)
    size = (max(1, round(art.width * ratio)), max(1, round(art.height * ratio)))
    return art.resize(size, LANCZOS, reducing_gap=3.0)


def convert(job: tuple[Path, Path, int]) -> None:
    source, output, number = job
    with Image.open(source, formats=["PNG", "JPEG", "WEBP"]) as image:
        if image.format == "JPEG":
            image.draft("RGB", (480, 480))
        image.load()
        art = ImageOps.exif_transpose(image).convert("RGBA")
    art = art.crop(art.getchannel("A").getbbox())
    content = fit(art, 480)
    square = Image.new("RGBA", (512, 512))
    square.paste(content, ((512 - content.width) // 2, (512 - content.height) // 2))
    square.save(output / f"{number:02d}-square.webp", "WEBP", quality=80, method=4)
    if content.width != content.height:
        pad = 512 - max(content.size)
        tall = Image.new("RGBA", (content.width + pad, content.height + pad))
        tall.paste(content, (pad // 2, pad // 2))
        tall.save(output / f"{number:02d}-telegram.webp", "WEBP", quality=80, method=4)
    square.resize((256, 256), LANCZOS).save(
        output / f"{number:02d}-preview.webp", "WEBP", quality=75, method=4
    )
    if number == 1:
        for size in (96, 100):
            icon = Image.new("RGBA", (size, size))
            small = fit(art, size - 4)
            icon.paste(small, ((size - small.width) // 2, (size - small.height) // 2))
            icon.save(output / f"icon-{size}.png", optimize=True)


def main() -> None:
    sources, output = Path(sys.argv[1]), Path(sys.argv[2])
    output.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    files = sorted(p for p in sources.iterdir() if p.suffix in (".png", ".jpg"))
    with Pool(2) as pool:
        pool.map(convert, [(path, output, n) for n, path in enumerate(files, 1)], chunksize=1)
    print(json.dumps({"seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
