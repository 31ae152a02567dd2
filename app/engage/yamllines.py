"""Where each value of a front matter sits in its file, so messages can name the line.

``value_lines(source)`` maps a path of keys and indexes, such as ``("questions", 2, "type")``, to
the file line of that key (or list item). The front matter is composed again with PyYAML's safe
composer, which keeps the marks that loading throws away.
"""

from __future__ import annotations

import yaml

from app.site.frontmatter import Source

Path = tuple[str | int, ...]


def _walk(node: yaml.Node, path: Path, lines: dict[Path, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                child = (*path, str(key.value))
                lines.setdefault(child, key.start_mark.line + 2)
                _walk(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines.setdefault(child, item.start_mark.line + 2)
            _walk(item, child, lines)


def value_lines(source: Source) -> dict[Path, int]:
    """The line of every key and list item of the front matter (empty when it will not compose,
    which cannot happen for a :class:`Source` that parsed)."""
    text = source.raw.decode("utf-8-sig")
    lines = text.splitlines(keepends=True)
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), 1)
    try:
        root = yaml.compose("".join(lines[1:end]), Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    found: dict[Path, int] = {}
    if root is not None:
        _walk(root, (), found)
    return found


def line_of(lines: dict[Path, int], path: Path) -> int:
    """The line of ``path``, or of its nearest ancestor that has one (2: the first line of front
    matter)."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return 2
