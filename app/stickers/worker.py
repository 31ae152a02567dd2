"""The work a build hands to its worker processes, one task per image.

Each task reads one source file and writes its outputs straight into the pack's temporary build
folder, then returns what it wrote (plain, picklable values) and the worker's peak memory. A
task that cannot finish raises :class:`ArtRejected`; the build decides what that means for the
pack. Tasks never touch Flask or the database.
"""

from __future__ import annotations

import os
import resource
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from app.stickers import imaging, lettering, limits
from app.stickers.errors import ArtRejected

SAMPLE_NAME = "Your name"


@dataclass(frozen=True)
class Output:
    """One file written: its path inside the build folder, and what it measures."""

    file: str
    bytes: int
    width: int
    height: int
    quality: int | None = None
    alpha_quality: int | None = None
    scale: float | None = None


@dataclass(frozen=True)
class StickerTask:
    source: Path
    build_dir: Path
    slug: str
    name: str  # file name without suffix, such as "01_robin"
    max_pixels: int


@dataclass(frozen=True)
class StickerResult:
    outputs: dict[str, Output]  # by platform name
    preview: Output
    source_format: str
    source_size: tuple[int, int]
    peak_rss: int


@dataclass(frozen=True)
class IconTask:
    source: Path
    build_dir: Path
    slug: str
    max_pixels: int


@dataclass(frozen=True)
class IconResult:
    tray: Output
    thumbnail: Output
    peak_rss: int


@dataclass(frozen=True)
class PersonalTask:
    base: Path
    build_dir: Path
    box: tuple[int, int, int, int]
    color: str
    outline: str | None
    font: Path | None
    max_pixels: int


@dataclass(frozen=True)
class PersonalResult:
    base: Output
    box: tuple[int, int, int, int]  # on the canvas
    font: str | None
    preview: Output
    peak_rss: int = field(default=0)


@dataclass(frozen=True)
class TaskFailure:
    """A task's image was rejected: the rule it broke and why."""

    rule: str
    message: str
    peak_rss: int


Task = StickerTask | IconTask | PersonalTask
Result = StickerResult | IconResult | PersonalResult | TaskFailure


def run_task(task: Task) -> Result:
    """Run ``task`` in this worker; a rejected image becomes a :class:`TaskFailure`."""
    try:
        if isinstance(task, StickerTask):
            return convert_sticker(task)
        if isinstance(task, IconTask):
            return make_icons(task)
        return prepare_personal(task)
    except ArtRejected as exc:
        return TaskFailure(exc.rule, exc.message, peak_rss())
    except MemoryError:
        return TaskFailure("memory", "needs more memory than this machine can give", peak_rss())


def peak_rss() -> int:
    """This process's peak resident memory, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _write(build_dir: Path, relative: str, data: bytes) -> None:
    path = build_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _output(relative: str, encoded: imaging.Encoded) -> Output:
    return Output(
        relative,
        len(encoded.data),
        encoded.width,
        encoded.height,
        encoded.quality,
        encoded.alpha_quality,
        encoded.scale,
    )


def convert_sticker(task: StickerTask) -> StickerResult:
    """Write the sticker for every platform and its preview. Raises :class:`ArtRejected`."""
    art, info = imaging.open_art(task.source, task.max_pixels)
    fitted = imaging.fitter(imaging.trim(art))
    square = imaging.sticker_renderer(fitted, square=True)
    whatsapp = imaging.encode_within(
        square, limits.WHATSAPP.max_sticker_bytes, limits.WHATSAPP.label
    )
    # A result found at the starting settings is what any larger limit would find too.
    signal = (
        whatsapp
        if whatsapp.first_try
        else imaging.encode_within(square, limits.SIGNAL.max_sticker_bytes, limits.SIGNAL.label)
    )
    tall = imaging.sticker_renderer(fitted, square=False)
    if tall(1.0).size == (limits.CANVAS, limits.CANVAS) and whatsapp.first_try:
        telegram = whatsapp
    else:
        telegram = imaging.encode_within(
            tall, limits.TELEGRAM.max_sticker_bytes, limits.TELEGRAM.label
        )
    file = f"{task.name}.webp"
    paths = {
        "whatsapp": f"whatsapp/{task.slug}/{file}",
        "telegram": f"telegram/{file}",
        "signal": f"signal/{file}",
    }
    encoded = {"whatsapp": whatsapp, "telegram": telegram, "signal": signal}
    for platform, relative in paths.items():
        _write(task.build_dir, relative, encoded[platform].data)
    small = imaging.preview(square(1.0))
    _write(task.build_dir, f"previews/{file}", small)
    return StickerResult(
        outputs={p: _output(paths[p], encoded[p]) for p in paths},
        preview=Output(f"previews/{file}", len(small), limits.PREVIEW_SIZE, limits.PREVIEW_SIZE),
        source_format=info.format,
        source_size=(info.width, info.height),
        peak_rss=peak_rss(),
    )


def make_icons(task: IconTask) -> IconResult:
    """Write WhatsApp's tray icon and Telegram's thumbnail. Raises :class:`ArtRejected`."""
    art, _ = imaging.open_art(task.source, task.max_pixels, box=limits.TELEGRAM_THUMBNAIL)
    art = imaging.trim(art)
    tray = imaging.icon(
        art, limits.WHATSAPP_TRAY, limits.WHATSAPP_TRAY_MAX_BYTES, "WhatsApp's tray icon"
    )
    thumbnail = imaging.icon(
        art, limits.TELEGRAM_THUMBNAIL, limits.TELEGRAM_THUMBNAIL_MAX_BYTES, "Telegram's thumbnail"
    )
    _write(task.build_dir, f"whatsapp/{task.slug}/tray.png", tray)
    _write(task.build_dir, "telegram/thumbnail.png", thumbnail)
    return IconResult(
        Output(
            f"whatsapp/{task.slug}/tray.png", len(tray), limits.WHATSAPP_TRAY, limits.WHATSAPP_TRAY
        ),
        Output(
            "telegram/thumbnail.png",
            len(thumbnail),
            limits.TELEGRAM_THUMBNAIL,
            limits.TELEGRAM_THUMBNAIL,
        ),
        peak_rss(),
    )


def _box_on_canvas(
    art: Image.Image, box: tuple[int, int, int, int]
) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """Fit the base art on the square canvas and carry the text box along with it."""
    width, height = art.size
    if box[2] > width or box[3] > height:
        raise ArtRejected(
            "personal", f"the text box {list(box)} lies outside the base image ({width}x{height})"
        )
    bbox = art.getchannel("A").getbbox()
    if bbox is None:
        raise ArtRejected("empty", "is fully transparent: there is nothing to show")
    trimmed = art.crop(bbox)
    content = imaging.fit(trimmed, limits.CONTENT)
    scale = content.width / trimmed.width
    left = (limits.CANVAS - content.width) // 2
    top = (limits.CANVAS - content.height) // 2
    mapped = (
        round((box[0] - bbox[0]) * scale) + left,
        round((box[1] - bbox[1]) * scale) + top,
        round((box[2] - bbox[0]) * scale) + left,
        round((box[3] - bbox[1]) * scale) + top,
    )
    clamped = (
        max(0, mapped[0]),
        max(0, mapped[1]),
        min(limits.CANVAS, mapped[2]),
        min(limits.CANVAS, mapped[3]),
    )
    if clamped[2] - clamped[0] < 8 or clamped[3] - clamped[1] < 8:
        raise ArtRejected(
            "personal", "the text box is too small once the base is fitted on the sticker"
        )
    return imaging.on_canvas(content, square=True), clamped


def prepare_personal(task: PersonalTask) -> PersonalResult:
    """Write the personalised sticker's base on the canvas, its font, and a sample preview."""
    art, _ = imaging.open_art(task.base, task.max_pixels)
    canvas, box = _box_on_canvas(art, task.box)
    font = None
    if task.font is not None:
        font = f"personal/font{task.font.suffix.lower()}"
        (task.build_dir / "personal").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(task.font, task.build_dir / font)
        try:
            lettering.load_font(task.build_dir / font, 24)
        except OSError as exc:
            raise ArtRejected("font", f"is not a font Pillow can use: {exc}") from None
    base = imaging.png(canvas)
    _write(task.build_dir, "personal/base.png", base)
    sample = lettering.draw_name(
        canvas, SAMPLE_NAME, box, task.color, task.outline, task.build_dir / font if font else None
    )
    # Members' stickers are made later, one by one: make sure one can meet the limits now.
    imaging.encode_within(
        imaging.sticker_renderer(imaging.trim(sample), square=True),
        limits.WHATSAPP.max_sticker_bytes,
        limits.WHATSAPP.label,
    )
    small = imaging.preview(sample)
    _write(task.build_dir, "previews/personal.webp", small)
    return PersonalResult(
        Output("personal/base.png", len(base), limits.CANVAS, limits.CANVAS),
        box,
        font,
        Output("previews/personal.webp", len(small), limits.PREVIEW_SIZE, limits.PREVIEW_SIZE),
        peak_rss(),
    )


def _exit_with_owner(owner: int) -> None:
    while True:
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            os._exit(1)  # the build that started us is gone: nobody wants our output
        except PermissionError:
            pass
        time.sleep(1.0)


def start_worker(owner: int) -> None:
    """Initializer of every worker process: exit when ``owner`` (the process that asked for
    the pool) dies, so a server killed mid-build leaves no workers behind. The worker's own
    parent is the fork server, which outlives a killed owner while any worker is alive."""
    threading.Thread(target=_exit_with_owner, args=(owner,), daemon=True).start()
