"""Editor files loaded with the line of every key: YAML (front matter) and TOML.

A :class:`Document` holds the plain data (dicts, lists, scalars) and, for every key path such as
``("questions", 2, "type")`` or ``("sticker", 1, "emojis")``, the line of the file where that key
(or list item, or ``[[table]]``) starts, so any later message can name its line::

    doc = load_toml(path)
    doc.line("newsletter", "kind")      # the line of `kind =` in [newsletter]
    raise doc.error(("newsletter", "kind"), "kind must be …")

YAML is composed with the safe loader (libyaml when present); dates stay text, so each field is
checked by its reader. Nesting deeper than :data:`MAX_DEPTH` and anchors that expand to more than
:data:`MAX_NODES` values are refused with an :class:`UnreadableFile`, never a stack trace.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from app.editorfiles.errors import EditorFileError, UnreadableFile

KeyPath = tuple[str | int, ...]
MAX_DEPTH = 64
MAX_NODES = 100_000


@dataclass(frozen=True)
class Document:
    """The data of one editor file and the line of each key path in it."""

    path: Path
    data: dict[str, Any]
    lines: Mapping[KeyPath, int] = field(default_factory=dict, compare=False)
    first_line: int = 1  # where the data starts (2 for front matter): the fallback line

    def find(self, *where: str | int) -> int | None:
        """The line of exactly ``where``, or None when the file does not write it."""
        return self.lines.get(where)

    def line(self, *where: str | int) -> int:
        """The line of ``where``, or of its nearest ancestor that has one."""
        path: KeyPath = where
        while path:
            found = self.lines.get(path)
            if found is not None:
                return found
            path = path[:-1]
        return self.first_line

    def error(self, where: KeyPath, message: str) -> EditorFileError:
        return EditorFileError(self.path, self.line(*where), message)


# --- YAML ---------------------------------------------------------------------------------

_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[misc, valid-type]
    """Safe YAML that keeps dates as text, so every field is validated by its reader."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _yaml_lines(path: Path, root: yaml.Node, first_line: int) -> dict[KeyPath, int]:
    """The line of every key and list item, walking without recursion; refuses nesting deeper
    than MAX_DEPTH and aliases that expand past MAX_NODES (a "billion laughs" file)."""
    lines: dict[KeyPath, int] = {}
    stack: list[tuple[yaml.Node, KeyPath]] = [(root, ())]
    visited = 0
    while stack:
        node, where = stack.pop()
        visited += 1
        if visited > MAX_NODES:
            raise UnreadableFile(path, first_line, f"more than {MAX_NODES:,} values (anchors?)")
        if len(where) > MAX_DEPTH:
            line = node.start_mark.line + first_line
            raise UnreadableFile(path, line, f"nested more than {MAX_DEPTH} levels deep")
        children: list[tuple[KeyPath, yaml.Node, int]] = []
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
                children.append(((*where, name), value, key.start_mark.line))
        elif isinstance(node, yaml.SequenceNode):
            children = [
                ((*where, i), item, item.start_mark.line) for i, item in enumerate(node.value)
            ]
        for child, value, mark in reversed(children):
            lines.setdefault(child, mark + first_line)
            stack.append((value, child))
    return lines


def load_yaml(path: Path, text: str, first_line: int = 1) -> Document:
    """The mapping in ``text`` (which starts at line ``first_line`` of ``path``). An empty text
    is an empty mapping. Raises :class:`UnreadableFile` for YAML that is invalid, too deep, or
    expands too far, and :class:`EditorFileError` when the top is not a mapping."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        lines = _yaml_lines(path, root, first_line) if root is not None else {}
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + first_line if mark is not None else first_line
        raise UnreadableFile(path, line, f"invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise UnreadableFile(path, first_line, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise UnreadableFile(path, first_line, "invalid YAML: nested too deeply") from None
    finally:
        loader.dispose()
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise EditorFileError(path, first_line, "front matter must be a mapping of field: value")
    return Document(path, data, lines, first_line)


@dataclass(frozen=True)
class FrontMatter:
    """A Markdown file split at its front matter: ``yaml`` starts at line 2, ``body`` at
    ``body_line``."""

    yaml: str
    body: str
    body_line: int


def split_front_matter(path: Path, text: str) -> FrontMatter:
    """Split ``---`` front matter from the body; raises :class:`EditorFileError` at line 1."""
    if not text.strip():
        raise EditorFileError(path, 1, "file is empty")
    lines = text.splitlines(keepends=True)
    if lines[0].rstrip() != "---":
        raise EditorFileError(path, 1, "front matter must start with a line of three dashes (---)")
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        raise EditorFileError(path, 1, "front matter is not closed by a line of three dashes (---)")
    return FrontMatter("".join(lines[1:end]), "".join(lines[end + 1 :]), end + 2)


# --- TOML ---------------------------------------------------------------------------------

_AT_LINE = re.compile(r"\(at line (\d+)")
_PART = r'(?:"[^"]*"|\'[^\']*\'|[A-Za-z0-9_-]+)'
_DOTTED = rf"{_PART}(?:\s*\.\s*{_PART})*"
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_DOTTED})\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(rf"^\s*({_DOTTED})\s*=")
_PARTS = re.compile(_PART)


def _parts(dotted: str) -> tuple[str, ...]:
    return tuple(p.strip("\"'") for p in _PARTS.findall(dotted))


def toml_lines(text: str) -> dict[KeyPath, int]:
    """The line of every ``[table]``, ``[[table]]`` (as ``(name, index)``) and ``key =``.

    A small scanner, since tomllib keeps no positions: keys inside inline tables and multi-line
    arrays are not found, and a message about them names the line of their parent key.
    """
    lines: dict[KeyPath, int] = {}
    counts: dict[tuple[str, ...], int] = {}
    table: KeyPath = ()
    in_string = False
    for number, line in enumerate(text.splitlines(), start=1):
        if in_string:
            in_string = (line.count('"""') + line.count("'''")) % 2 == 0
            continue
        header = _HEADER.match(line)
        if header:
            names = _parts(header.group(2))
            if header.group(1) == "[[":
                index = counts.get(names, 0)
                counts[names] = index + 1
                lines.setdefault(names, number)
                table = (*names, index)
            else:
                table = names
            lines.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            lines.setdefault((*table, *_parts(key.group(1))), number)
            in_string = (line.count('"""') + line.count("'''")) % 2 == 1
    return lines


def load_toml(path: Path, text: str | None = None) -> Document:
    """Read and parse ``path`` (or ``text``). Raises :class:`UnreadableFile` with the line."""
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise UnreadableFile(path, 1, f"not UTF-8 ({exc.reason})") from None
        except OSError as exc:
            raise UnreadableFile(path, 1, f"cannot read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _AT_LINE.search(str(exc))
        raise UnreadableFile(
            path, int(found.group(1)) if found else 1, f"invalid TOML: {exc}"
        ) from None
    except RecursionError:
        raise UnreadableFile(path, 1, "invalid TOML: nested too deeply") from None
    return Document(path, data, toml_lines(text))
