"""Pack specs: ``stickers/<slug>/pack.toml`` read, and checked against every platform's limits.

A spec names its art by paths relative to its folder. :func:`read_pack` returns the spec, or
every problem it found, each naming the pack, the file, the rule and the line of ``pack.toml``.
Reading a spec never opens an image: the image checks belong to the build (and ``check``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import emoji as emoji_data

from app.editorfiles.documents import Document, load_toml
from app.editorfiles.errors import EditorFileError, TooLong
from app.editorfiles.fields import Fields
from app.rewards.errors import RuleError
from app.rewards.rules import PACK_SLUG, check_pattern
from app.stickers import limits
from app.stickers.errors import PackProblem

SPEC_FILE = "pack.toml"
TOP_KEYS = {"title", "publisher", "description", "unlocked_by", "tray", "sticker", "personal"}
STICKER_KEYS = {"file", "emojis", "alt"}
PERSONAL_KEYS = {"base", "box", "color", "outline", "font", "emojis", "alt"}
COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


@dataclass(frozen=True)
class StickerSpec:
    """One ``[[sticker]]``: ``position`` counts from 1 in the order of the file."""

    position: int
    file: str
    path: Path
    emojis: tuple[str, ...]
    alt: str


@dataclass(frozen=True)
class PersonalSpec:
    """The ``[personal]`` template: ``box`` is (left, top, right, bottom) in pixels of the base
    image, where the member's name is drawn in ``color`` (with an ``outline`` if given)."""

    base: str
    base_path: Path
    box: tuple[int, int, int, int]
    color: str
    outline: str | None
    font: str | None
    font_path: Path | None
    emojis: tuple[str, ...]
    alt: str


@dataclass(frozen=True)
class PackSpec:
    slug: str
    folder: Path
    title: str
    publisher: str
    description: str
    unlocked_by: tuple[str, ...]
    tray: str | None
    tray_path: Path | None
    stickers: tuple[StickerSpec, ...]
    personal: PersonalSpec | None
    telegram_name: str
    lines: dict[str, int] = field(default_factory=dict, compare=False)
    """The line of ``pack.toml`` that names each file."""

    @property
    def spec_path(self) -> Path:
        return self.folder / SPEC_FILE

    @property
    def sticker_count(self) -> int:
        """Stickers in a member's download: the pack's, plus the personalised one."""
        return len(self.stickers) + (1 if self.personal else 0)

    def source_files(self) -> list[tuple[str, Path]]:
        """Every file the build reads, in a stable order, each once."""
        files: dict[str, Path] = {SPEC_FILE: self.spec_path}
        for sticker in self.stickers:
            files.setdefault(sticker.file, sticker.path)
        if self.tray and self.tray_path:
            files.setdefault(self.tray, self.tray_path)
        if self.personal:
            files.setdefault(self.personal.base, self.personal.base_path)
            if self.personal.font and self.personal.font_path:
                files.setdefault(self.personal.font, self.personal.font_path)
        return list(files.items())


@dataclass
class _Reader:
    """Collects the problems of one spec while it is read."""

    slug: str
    folder: Path
    doc: Document
    problems: list[PackProblem] = field(default_factory=list)

    named: dict[str, int] = field(default_factory=dict)

    def problem(self, file: str, rule: str, message: str, line: int | None) -> None:
        self.problems.append(PackProblem(self.slug, file, rule, message, line))

    def text(
        self,
        data: dict[str, Any],
        key: str,
        line: int | None,
        *,
        required: bool,
        maximum: int,
        where: str = "pack.toml",
    ) -> str:
        fields = Fields(self.doc, data)
        try:
            if required:
                return fields.text(key, max_length=maximum)
            return fields.text(key, max_length=maximum, default="")
        except TooLong as exc:
            self.problem(where, "length", exc.message, line)
            return str(data[key]).strip()
        except EditorFileError as exc:
            self.problem(where, "field", exc.message, line)
            return ""

    def file(
        self,
        value: object,
        key: str,
        line: int | None,
        suffixes: tuple[str, ...] = limits.ALLOWED_SUFFIXES,
    ) -> tuple[str, Path] | None:
        """Check a path named in the spec: relative, inside the pack folder, present, and of
        an allowed kind. Returns (the path as written, the resolved path)."""
        if not isinstance(value, str) or not value.strip():
            self.problem("pack.toml", "field", f"{key} must name a file in the pack folder", line)
            return None
        name = value.strip()
        if any(ord(c) < 32 or c == "\x7f" for c in name):
            self.problem(repr(name), "path", f"{key} contains control characters", line)
            return None
        pure = PurePosixPath(name)
        root = self.folder.resolve()
        resolved = (self.folder / name).resolve()
        if (
            pure.is_absolute()
            or "\\" in name
            or ".." in pure.parts
            or not resolved.is_relative_to(root)
        ):
            self.problem(
                name,
                "path",
                f"{key} leaves the pack folder; name a file inside stickers/{self.slug}/",
                line,
            )
            return None
        if pure.suffix.lower() not in suffixes:
            kinds = ", ".join(suffixes)
            self.problem(name, "format", f"{key} must be one of {kinds}", line)
            return None
        if not resolved.is_file():
            self.problem(name, "missing", "no such file in the pack folder", line)
            return None
        if line is not None:
            self.named.setdefault(name, line)
        return name, resolved

    def emojis(self, value: object, where: str, line: int | None) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(e, str) for e in value):
            self.problem(where, "emoji", 'emojis must be a list such as ["🐦", "😊"]', line)
            return ()
        if not limits.MAX_EMOJI >= len(value) >= 1:
            self.problem(
                where,
                "emoji",
                f"{len(value)} emoji given; each sticker needs 1 to "
                f"{limits.MAX_EMOJI} (WhatsApp's limit)",
                line,
            )
        for item in value:
            if not emoji_data.is_emoji(item):
                self.problem(where, "emoji", f"{item!r} is not a single emoji", line)
        if len(set(value)) != len(value):
            self.problem(where, "emoji", "the same emoji is listed twice", line)
        return tuple(value)


def _load(path: Path, slug: str) -> tuple[Document | None, list[PackProblem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [PackProblem(slug, SPEC_FILE, "toml", f"not UTF-8 ({exc.reason})")]
    except OSError as exc:
        return None, [PackProblem(slug, SPEC_FILE, "missing", exc.strerror or str(exc))]
    try:
        return load_toml(path, text), []
    except EditorFileError as exc:
        return None, [PackProblem(slug, SPEC_FILE, "toml", exc.message, exc.line)]


def read_pack(folder: Path, telegram_bot: str) -> tuple[PackSpec | None, list[PackProblem]]:
    """Read and check ``folder/pack.toml``: the spec, and every problem found.

    With problems, the spec holds what could be read (``check`` shows it) and must not be
    built or offered; it is None only when ``pack.toml`` cannot be read at all.
    """
    slug = folder.name
    if not PACK_SLUG.match(slug):
        return None, [
            PackProblem(
                slug,
                SPEC_FILE,
                "slug",
                "the pack folder's name must be a slug: a-z, 0-9 and -, up to 64",
            )
        ]
    doc, problems = _load(folder / SPEC_FILE, slug)
    if doc is None:
        return None, problems
    reader = _Reader(slug, folder, doc)
    return _read(reader, doc.data, telegram_bot), reader.problems


def _read(reader: _Reader, data: dict[str, Any], telegram_bot: str) -> PackSpec:
    doc = reader.doc
    for unknown in Fields.of(doc).unknown(TOP_KEYS, "key"):
        reader.problem(SPEC_FILE, "field", unknown.message, unknown.line)
    title = reader.text(data, "title", doc.find("title"), required=True, maximum=limits.MAX_TITLE)
    publisher = reader.text(
        data, "publisher", doc.find("publisher"), required=True, maximum=limits.MAX_PUBLISHER
    )
    description = reader.text(
        data,
        "description",
        doc.find("description"),
        required=False,
        maximum=limits.MAX_DESCRIPTION,
    )
    unlocked_by = _unlocked_by(reader, data.get("unlocked_by"))
    tray = None
    if "tray" in data:
        tray = reader.file(data["tray"], "tray", doc.find("tray"))
    stickers = _stickers(reader, data.get("sticker"))
    personal = _personal(reader, data["personal"]) if "personal" in data else None
    count = len(stickers) + (1 if "personal" in data else 0)
    if not limits.MIN_STICKERS <= count <= limits.MAX_STICKERS:
        extra = " (counting the personalised sticker)" if "personal" in data else ""
        reader.problem(
            SPEC_FILE,
            "sticker-count",
            f"{count} stickers{extra}; WhatsApp takes {limits.MIN_STICKERS} to "
            f"{limits.MAX_STICKERS} per pack",
            doc.line("sticker"),
        )
    telegram_name = limits.telegram_set_name(reader.slug, telegram_bot)
    reason = limits.telegram_set_name_problem(telegram_name)
    if reason:
        reader.problem(
            SPEC_FILE,
            "telegram-name",
            f"the Telegram set name {telegram_name!r} "
            f"is invalid: {reason}; shorten the folder "
            "name",
            1,
        )
    return PackSpec(
        slug=reader.slug,
        folder=reader.folder,
        title=title,
        publisher=publisher,
        description=description,
        unlocked_by=unlocked_by,
        tray=tray[0] if tray else None,
        tray_path=tray[1] if tray else None,
        stickers=tuple(stickers),
        personal=personal,
        telegram_name=telegram_name,
        lines=dict(reader.named),
    )


def _unlocked_by(reader: _Reader, value: object) -> tuple[str, ...]:
    line = reader.doc.find("unlocked_by")
    if value is None:
        return ()
    if not isinstance(value, list):
        reader.problem(SPEC_FILE, "field", "unlocked_by must be a list of action names", line)
        return ()
    patterns = []
    for pattern in value:
        try:
            patterns.append(check_pattern(pattern, reader.folder / SPEC_FILE))
        except RuleError as exc:
            reader.problem(SPEC_FILE, "unlocked-by", exc.message, line)
    return tuple(patterns)


def _stickers(reader: _Reader, value: object) -> list[StickerSpec]:
    if not isinstance(value, list) or not value:
        reader.problem(SPEC_FILE, "field", "a pack needs [[sticker]] entries", None)
        return []
    stickers = []
    seen: dict[str, int] = {}
    doc = reader.doc
    for position, entry in enumerate(value, 1):
        if not isinstance(entry, dict):
            reader.problem(
                SPEC_FILE,
                "field",
                "sticker must be a list of [[sticker]] tables",
                doc.find("sticker"),
            )
            continue
        fields = Fields(doc, entry, ("sticker", position - 1))
        for unknown in fields.unknown(STICKER_KEYS, "key", f" in sticker {position}"):
            reader.problem(SPEC_FILE, "field", unknown.message, unknown.line)
        found = reader.file(entry.get("file"), "file", fields.line("file"))
        name = found[0] if found else str(entry.get("file", f"sticker {position}"))
        emojis = reader.emojis(entry.get("emojis"), name, fields.line("emojis"))
        alt = reader.text(
            entry,
            "alt",
            fields.line("alt"),
            required=True,
            maximum=limits.MAX_ALT,
            where=name,
        )
        if found and found[0] in seen:
            reader.problem(
                name,
                "duplicate",
                f"sticker {position} repeats sticker {seen[found[0]]}",
                fields.line("file"),
            )
        if found:
            seen.setdefault(found[0], position)
            stickers.append(StickerSpec(position, found[0], found[1], emojis, alt))
    return stickers


def _personal(reader: _Reader, table: object) -> PersonalSpec | None:
    if not isinstance(table, dict):
        line = reader.doc.find("personal")
        reader.problem(SPEC_FILE, "personal", "[personal] must be a table", line)
        return None
    fields = Fields(reader.doc, table, ("personal",))
    for unknown in fields.unknown(PERSONAL_KEYS, "key", " in [personal]"):
        reader.problem(SPEC_FILE, "field", unknown.message, unknown.line)
    base = reader.file(table.get("base"), "base", fields.line("base"))
    where = base[0] if base else SPEC_FILE
    box = table.get("box")
    if not (
        isinstance(box, list)
        and len(box) == 4
        and all(type(v) is int for v in box)
        and 0 <= box[0] < box[2]
        and 0 <= box[1] < box[3]
    ):
        reader.problem(
            where,
            "personal",
            "box must be [left, top, right, bottom] in pixels of the base image",
            fields.line("box"),
        )
        box = [0, 0, 1, 1]
    colours: dict[str, str | None] = {}
    for key in ("color", "outline"):
        value = table.get(key)
        if value is None and key == "outline":
            colours[key] = None
            continue
        if not isinstance(value, str) or not COLOUR.match(value):
            reader.problem(
                where,
                "personal",
                f'{key} must be a colour such as "#1e1d1a"',
                fields.line(key),
            )
            value = "#000000"
        colours[key] = value
    font = None
    if "font" in table:
        font = reader.file(
            table["font"], "font", fields.line("font"), suffixes=limits.FONT_SUFFIXES
        )
    emojis = reader.emojis(table.get("emojis"), where, fields.line("emojis"))
    alt = reader.text(
        table,
        "alt",
        fields.line("alt"),
        required=True,
        maximum=limits.MAX_ALT,
        where=where,
    )
    if base is None:
        return None
    return PersonalSpec(
        base=base[0],
        base_path=base[1],
        box=(box[0], box[1], box[2], box[3]),
        color=str(colours["color"]),
        outline=colours["outline"],
        font=font[0] if font else None,
        font_path=font[1] if font else None,
        emojis=emojis,
        alt=alt,
    )


def pack_folders(stickers_dir: Path) -> list[Path]:
    """Every folder under ``stickers_dir`` that holds a ``pack.toml``, sorted by name."""
    return sorted(path.parent for path in stickers_dir.glob(f"*/{SPEC_FILE}"))
