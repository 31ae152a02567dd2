"""``stickers check``: every pack against its spec and every platform's limits, one row per
sticker.

Each image is opened as the build opens it (format list, pixel cap, full decode at the reduced
scale), so a broken file shows up without building. The sizes each platform got come from the
pack's build when it matches the current files; otherwise the row says the pack is not built.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.editorfiles.documents import load_toml
from app.editorfiles.errors import EditorFileError
from app.stickers import builds, fingerprint, imaging, limits, publish
from app.stickers.build import BuildOptions
from app.stickers.builds import BuiltPack, BuiltSticker
from app.stickers.errors import ArtRejected, PackProblem
from app.stickers.spec import SPEC_FILE, PackSpec, pack_folders, read_pack


@dataclass(frozen=True)
class CheckRow:
    pack: str
    position: str  # "1", "2", … or "tray", "personal"
    file: str
    source: str  # "PNG 1024x1024", or "" when it cannot be opened
    emojis: str
    sizes: tuple[str, ...]  # one per platform, in PLATFORMS order
    status: str  # "ok", "not built", or the rules it breaks


@dataclass(frozen=True)
class CheckReport:
    rows: list[CheckRow]
    problems: list[tuple[Path, PackProblem]]  # with the pack.toml each comes from

    @property
    def ok(self) -> bool:
        return not self.problems


def _size(count: int) -> str:
    return f"{count / limits.KiB:.1f} KiB"


def _entries(folder: Path) -> list[tuple[str, str, str]]:
    """(position, file, emojis) of every ``[[sticker]]`` as written, even broken ones."""
    try:
        data = load_toml(folder / SPEC_FILE).data
    except EditorFileError:
        return []
    entries = data.get("sticker")
    if not isinstance(entries, list):
        return []
    found = []
    for position, entry in enumerate(entries, 1):
        entry = entry if isinstance(entry, dict) else {}
        emojis = entry.get("emojis")
        shown = (
            " ".join(e for e in emojis if isinstance(e, str)) if isinstance(emojis, list) else ""
        )
        found.append((str(position), str(entry.get("file", "")), shown))
    return found


def _current_build(spec: PackSpec, options: BuildOptions) -> tuple[BuiltPack | None, str | None]:
    """The build matching the pack's files now, and the pack's hash (None if unreadable)."""
    pack_dir = options.output_dir / spec.slug
    try:
        build_hash, _ = fingerprint.pack_hash(
            spec, options.settings(), fingerprint.read_stamps(pack_dir)
        )
    except OSError:
        return None, None
    if builds.current_hash(options.output_dir, spec.slug) != build_hash:
        return None, build_hash
    return builds.read_build(options.output_dir, spec.slug, build_hash), build_hash


def _inspect(path: Path | None, options: BuildOptions) -> tuple[str, str | None, str | None]:
    """(source description, rule, message) for one image."""
    if path is None:
        return "", None, None
    try:
        image, info = imaging.open_art(path, options.max_pixels)
        image.close()
    except ArtRejected as exc:
        return "", exc.rule, exc.message
    return f"{info.format} {info.width}x{info.height}", None, None


def _sizes(
    position: str, file: str, build: BuiltPack | None, built: dict[str, BuiltSticker]
) -> tuple[str, ...]:
    """Bytes each platform got: a sticker's file, or the tray icon (WhatsApp) and thumbnail
    (Telegram) on the tray row."""
    if build is not None and position == "tray":
        return (_size(build.tray.bytes), _size(build.thumbnail.bytes), "-")
    if position != "tray" and file in built:
        return tuple(_size(built[file].files[p.name].bytes) for p in limits.PLATFORMS)
    return ("-",) * len(limits.PLATFORMS)


def check_pack(folder: Path, options: BuildOptions) -> tuple[list[CheckRow], list[PackProblem]]:
    spec, problems = read_pack(folder, options.telegram_bot)
    slug = folder.name
    by_file = {s.file: s for s in spec.stickers} if spec else {}
    build, build_hash = _current_build(spec, options) if spec and not problems else (None, None)
    failed = (
        publish.remembered_failure(options.output_dir / slug, build_hash, slug)
        if build_hash
        else None
    ) or []
    built = {s.source: s for s in build.stickers} if build else {}
    rows = []
    items = list(_entries(folder))
    if spec and spec.personal:
        items.append(("personal", spec.personal.base, " ".join(spec.personal.emojis)))
    if spec and spec.tray:
        items.append(("tray", spec.tray, ""))
    for position, file, emojis in items:
        path = by_file[file].path if file in by_file else None
        if position == "personal" and spec and spec.personal:
            path = spec.personal.base_path
        if position == "tray" and spec and spec.tray_path:
            path = spec.tray_path
        source, rule, message = _inspect(path, options)
        if rule and message:
            problems.append(
                PackProblem(slug, file, rule, message, spec.lines.get(file) if spec else None)
            )
        rules = sorted({p.rule for p in problems + failed if p.file == file})
        sizes = _sizes(position, file, build, built)
        status = (
            ", ".join(rules) if rules else ("ok" if build or position == "tray" else "not built")
        )
        rows.append(CheckRow(slug, position, file, source, emojis, sizes, status))
    return rows, problems + [p for p in failed if p not in problems]


def check_packs(options: BuildOptions, slugs: list[str] | None = None) -> CheckReport:
    rows: list[CheckRow] = []
    problems: list[tuple[Path, PackProblem]] = []
    for folder in pack_folders(options.stickers_dir):
        if slugs and folder.name not in slugs:
            continue
        pack_rows, pack_problems = check_pack(folder, options)
        rows += pack_rows
        problems += [(folder / SPEC_FILE, problem) for problem in pack_problems]
    return CheckReport(rows, problems)
