"""Writing content files: new posts, saves that never overwrite someone else's edit, and the
publication fields.

A save names the hash of the text the editor started from. When the file on disk no longer has
that hash, nothing is written and :class:`EditConflict` carries the current text. Writes go to a
temporary file in the same folder, then ``os.replace``: a reader sees the old file or the new one,
never half of one. Front matter is checked, and the body rendered within the render budget,
before anything is written.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.site.budget import DEFAULT_SECONDS
from app.site.cache import content_hash
from app.site.errors import (
    ContentPathError,
    EditConflict,
    OverBudget,
    SourceError,
    SourceOverBudget,
)
from app.site.frontmatter import parse_source
from app.site.library import Snapshot
from app.site.meta import SLUG, FieldError, slugify, validate
from app.site.rendering import render_markdown

KINDS = {"post": "posts", "page": "pages"}
FOLDERS = {**KINDS, "survey": "surveys"}  # every kind of file the web editor writes


@dataclass(frozen=True)
class Draft:
    """A file as the editor opened it: its text and the hash a save must name."""

    path: Path
    kind: str
    text: str
    hash: str


def file_for(content_dir: Path, kind: str, slug: str) -> Path:
    """The path of ``<folder>/<slug>.md`` for a post, page or survey; refuses anything that is
    not a plain slug."""
    if kind not in FOLDERS:
        raise ContentPathError(f"unknown kind {kind!r}; use post, page or survey")
    if not SLUG.match(slug) or len(slug) > 80:
        raise ContentPathError(f"{slug!r} is not a file name (a-z, 0-9 and dashes)")
    return content_dir / FOLDERS[kind] / f"{slug}.md"


def file_key(kind: str, slug: str) -> str:
    """How drafts and messages name a file: ``posts/<slug>``, ``surveys/<slug>``."""
    return f"{FOLDERS[kind]}/{slug}"


def _yaml_text(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def starter_text(title: str, kind: str, now: datetime, description: str = "") -> str:
    lines = ["---", f"title: {_yaml_text(title)}", f"description: {_yaml_text(description)}"]
    if kind == "post":
        lines += [f"date: {now:%Y-%m-%d}", "tags: []", "draft: true"]
    lines += ["---", "", "Write the first paragraph here.", ""]
    return "\n".join(lines)


def create(
    content_dir: Path,
    kind: str,
    title: str,
    now: datetime,
    description: str = "",
    text: str | None = None,
) -> Path:
    """Create a new file named after ``title`` (``-2``, ``-3`` … when taken) holding ``text``
    (for a post or page, by default, a starter draft) and return it."""
    base = slugify(title)
    if not base:
        raise ContentPathError("the title needs letters or digits to make a file name")
    if text is None:
        text = starter_text(" ".join(title.split()), kind, now, description)
    for number in range(1, 100):
        slug = base if number == 1 else f"{base}-{number}"
        path = file_for(content_dir, kind, slug)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("x", encoding="utf-8") as handle:
                handle.write(text)
        except FileExistsError:
            continue
        return path
    raise ContentPathError(f"too many files are named {base}")


def open_file(path: Path, kind: str) -> Draft:
    raw = path.read_bytes()
    return Draft(path, kind, raw.decode("utf-8-sig"), content_hash(raw))


def check_text(path: Path, text: str, kind: str, seconds: float = DEFAULT_SECONDS) -> None:
    """Raise :class:`SourceError` (with the line) unless ``text`` is a usable file: its
    :class:`SourceOverBudget` subclass when the body does not render within ``seconds`` or
    crosses a limit of the render budget."""
    raw = text.encode("utf-8")
    source = parse_source(path, raw)
    try:
        validate(source.meta, path.stem, is_post=kind == "post")
    except FieldError as exc:
        raise SourceError(path, source.line(exc.field), str(exc)) from None
    try:
        render_markdown(source.body, seconds=seconds)
    except OverBudget as exc:
        raise SourceOverBudget.of(path, source.body_line, exc) from None


def save(
    path: Path, text: str, expected_hash: str, kind: str, seconds: float = DEFAULT_SECONDS
) -> str:
    """Write ``text`` to ``path`` if the file still has ``expected_hash`` (empty for a file
    that must not exist yet). Returns the new hash. Raises :class:`SourceError` for invalid
    front matter or a body over the render budget of ``seconds``, and
    :class:`EditConflict` when someone else saved first."""
    text = text.replace("\r\n", "\n")
    check_text(path, text, kind, seconds)
    return write_file(path, text, expected_hash)


def write_file(path: Path, text: str, expected_hash: str) -> str:
    """Write ``text`` to ``path`` (atomically) if the file still has ``expected_hash``, empty
    for a file that must not exist yet; returns the new hash. The caller has checked the text.
    Raises :class:`EditConflict` when someone else saved first."""
    raw = text.replace("\r\n", "\n").encode("utf-8")
    try:
        current = path.read_bytes()
    except FileNotFoundError:
        current = None
    current_hash = content_hash(current) if current is not None else ""
    if current_hash != expected_hash:
        raise EditConflict(
            "Someone saved this file after you opened it. Your text was not saved: compare "
            "it with theirs below, merge, and save again.",
            current.decode("utf-8", "replace") if current is not None else "",
            current_hash,
        )
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return content_hash(raw)


_FIELD = re.compile(r"^(?P<name>[A-Za-z_][\w-]*)\s*:")


def set_fields(text: str, values: dict[str, str | None]) -> str:
    """Set (or, for None, remove) top-level front-matter fields, keeping every other line as
    the editor wrote it."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise SourceError("(text)", 1, "front matter must start with a line of three dashes")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        raise SourceError("(text)", 1, "front matter is not closed by a line of three dashes")
    head, rest = lines[1:end], lines[end:]
    kept: list[str] = []
    skipping = False
    for line in head:
        match = _FIELD.match(line)
        if match:
            skipping = match["name"] in values
        elif not line.startswith((" ", "\t", "-")):
            skipping = False  # a comment or a blank line ends a field's value
        if not skipping:
            kept.append(line)
    kept += [f"{name}: {value}" for name, value in values.items() if value is not None]
    return "\n".join([lines[0], *kept, *rest])


def publish_now(text: str, now: datetime) -> str:
    return set_fields(text, {"draft": None, "publish_at": None, "date": f"{now:%Y-%m-%d %H:%M}"})


def schedule(text: str, moment: datetime) -> str:
    return set_fields(text, {"draft": None, "publish_at": f"{moment:%Y-%m-%d %H:%M}"})


@dataclass(frozen=True)
class FileRow:
    """One line of the editor's list."""

    kind: str
    name: str
    title: str
    state: str  # public, draft, scheduled, expired or broken
    when: datetime | None
    url: str | None
    problem: str | None = None


def list_files(content_dir: Path, snapshot: Snapshot, now: datetime) -> list[FileRow]:
    """Every post and page file, newest first, including the ones that cannot be used."""
    rows = []
    for page in snapshot.all_pages:
        hidden = page.why_hidden(now)
        if hidden is None:
            state = "public"
        elif page.meta.draft:
            state = "draft"
        elif page.published_at is not None and page.published_at > now:
            state = "scheduled"
        else:
            state = "expired"
        rows.append(
            FileRow(page.kind, page.path.stem, page.title, state, page.published_at, page.url)
        )
    for problem in snapshot.problems:
        kind = next((k for k, folder in KINDS.items() if problem.path.parent.name == folder), None)
        if kind is not None and problem.path.parent.parent == content_dir:
            rows.append(
                FileRow(
                    kind,
                    problem.path.stem,
                    problem.path.name,
                    "broken",
                    None,
                    None,
                    f"line {problem.line}: {problem.message}",
                )
            )
    epoch = datetime.min.replace(tzinfo=now.tzinfo)
    return sorted(rows, key=lambda r: (r.state == "broken", r.when or epoch), reverse=True)
