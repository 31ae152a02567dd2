"""Images in ``content/images``: uploads checked by Pillow and re-encoded in responsive sizes, and
the sizes the renderer writes on each ``<img>`` so pages do not shift while they load.

An upload ``Harbour at dawn.jpg`` becomes ``harbour-at-dawn-3f9a1c-480.webp``,
``…-960.webp`` and ``…-1600.webp`` (never wider than the original). The hash in the name makes
each file immutable, so it can be cached for a year.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.registry import Slot
from app.site.errors import ImageRejected
from app.site.meta import slugify
from app.site.rendering import ImageSize

if TYPE_CHECKING:
    from PIL import Image

FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
MAX_UPLOAD_BYTES = 10_000_000
MAX_PIXELS = 40_000_000
WIDTHS = (480, 960, 1600)
VARIANT = re.compile(r"^(?P<stem>[a-z0-9-]+)-(?P<width>\d{2,5})\.webp$")


@dataclass(frozen=True)
class Variant:
    url: str
    width: int
    height: int


@dataclass(frozen=True)
class SavedImage:
    name: str
    variants: tuple[Variant, ...]

    @property
    def default(self) -> Variant:
        """The variant to put in ``src``: the middle size, or the largest there is."""
        fitting = [v for v in self.variants if v.width <= 960]
        return fitting[-1] if fitting else self.variants[0]

    def markdown(self, alt: str) -> str:
        clean = alt.replace("]", "").replace("[", "").strip() or self.name
        return f"![{clean}]({self.default.url})"


def _open(raw: bytes) -> Image.Image:
    from PIL import Image

    if not raw:
        raise ImageRejected("The file is empty.")
    if len(raw) > MAX_UPLOAD_BYTES:
        raise ImageRejected(f"The file is {len(raw):,} bytes; the limit is {MAX_UPLOAD_BYTES:,}.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw), formats=FORMATS)
            if image.width * image.height > MAX_PIXELS:
                raise ImageRejected(
                    f"The image is {image.width}×{image.height} pixels; the "
                    f"limit is {MAX_PIXELS // 1_000_000} million pixels."
                )
            image.load()
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected("The image has too many pixels.") from None
    except (OSError, ValueError, SyntaxError):
        raise ImageRejected("This is not a JPEG, PNG, WebP or GIF image Pillow can read.") from None
    return image


def save_upload(raw: bytes, filename: str, images_dir: Path) -> SavedImage:
    """Check ``raw``, re-encode it as WebP in each size up to its own width, and write the files
    atomically into ``images_dir``. Raises :class:`ImageRejected` and writes nothing when the
    image is not acceptable."""
    from PIL import Image, ImageOps

    image = _open(raw)
    image = ImageOps.exif_transpose(image)
    image = image.convert("RGBA" if "A" in image.getbands() or image.mode == "P" else "RGB")
    stem = (slugify(Path(filename).stem) or "image")[:50].strip("-") or "image"
    name = f"{stem}-{hashlib.sha256(raw).hexdigest()[:6]}"
    widths = sorted({w for w in WIDTHS if w < image.width} | {min(image.width, WIDTHS[-1])})
    images_dir.mkdir(parents=True, exist_ok=True)
    variants = []
    for width in widths:
        height = max(1, round(image.height * width / image.width))
        resized = (
            image
            if width == image.width
            else image.resize((width, height), Image.Resampling.LANCZOS)
        )
        target = images_dir / f"{name}-{width}.webp"
        _write_atomically(target, resized)
        variants.append(Variant(f"/images/{target.name}", width, height))
    return SavedImage(name, tuple(variants))


def _write_atomically(target: Path, image: Image.Image) -> None:
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".webp")
    try:
        with os.fdopen(fd, "wb") as handle:
            image.save(handle, "WEBP", quality=82, method=4)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class ImageCatalog:
    """Answers the renderer's question "how big is /images/x-960.webp, and what other sizes
    are there?" from the folder listing (re-read when the folder changes)."""

    def __init__(self, images_dir: Path) -> None:
        self.images_dir = images_dir
        self._lock = threading.Lock()
        self._stamp: int | None = None
        self._names: frozenset[str] = frozenset()
        self._sizes: dict[str, tuple[int, int]] = {}

    def _listing(self) -> frozenset[str]:
        try:
            stamp = self.images_dir.stat().st_mtime_ns
        except FileNotFoundError:
            return frozenset()
        with self._lock:
            if stamp != self._stamp:
                self._names = frozenset(os.listdir(self.images_dir))
                self._stamp = stamp
            return self._names

    def exists(self, url: str) -> bool:
        name = url.removeprefix("/images/")
        return url.startswith("/images/") and "/" not in name and name in self._listing()

    def _size(self, name: str) -> tuple[int, int] | None:
        from PIL import Image

        if name not in self._sizes:
            try:
                with Image.open(self.images_dir / name, formats=FORMATS) as image:
                    self._sizes[name] = image.size
            except (OSError, ValueError, SyntaxError):
                return None
        return self._sizes[name]

    def __call__(self, url: str) -> ImageSize | None:
        if not self.exists(url):
            return None
        name = url.removeprefix("/images/")
        size = self._size(name)
        if size is None:
            return None
        match = VARIANT.match(name)
        srcset = ""
        if match:
            stem = match["stem"]
            siblings = sorted(
                (int(m["width"]), n)
                for n in self._listing()
                if (m := VARIANT.match(n)) and m["stem"] == stem
            )
            if len(siblings) > 1:
                srcset = ", ".join(f"/images/{n} {w}w" for w, n in siblings)
        return ImageSize(size[0], size[1], srcset)


IMAGES = Slot[ImageCatalog](
    "images", "the images in content/images/", set_by="app.site.wiring.init_app"
)
