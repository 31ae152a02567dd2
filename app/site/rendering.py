"""Markdown to sanitized HTML: tables, fenced code with Pygments, a table of contents, footnotes,
admonitions and heading anchors.

Rendering is slow (a few milliseconds a document), which is why :mod:`app.site.cache` keeps its
results on disk by content hash; bump :data:`RENDERER_VERSION` whenever the output changes so old
entries are not reused. Every render keeps to the render budget (:mod:`app.site.budget`): a text
over it raises :class:`~app.site.errors.OverBudget` instead of holding the caller.
"""

from __future__ import annotations

import html
import math
import re
import threading
import xml.etree.ElementTree as etree
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

from app.site.budget import DEFAULT_SECONDS, check_shape, within
from app.site.linear_links import LinearLinks
from app.site.sanitize import plain_text, sanitize

RENDERER_VERSION = "3"
WORDS_PER_MINUTE = 230


@dataclass(frozen=True)
class ImageSize:
    """What the renderer needs to draw a local image without layout shift."""

    width: int
    height: int
    srcset: str = ""


ImageLookup = Callable[[str], ImageSize | None]


@dataclass(frozen=True)
class Heading:
    level: int
    anchor: str
    text: str


@dataclass(frozen=True)
class Rendered:
    """One rendered body. ``html`` is sanitized; ``text`` is its plain text."""

    html: str
    text: str
    words: int
    headings: tuple[Heading, ...] = ()
    links: tuple[str, ...] = field(default=())

    @property
    def reading_minutes(self) -> int:
        return max(1, math.ceil(self.words / WORDS_PER_MINUTE))

    def to_json(self) -> dict[str, Any]:
        return {
            "html": self.html,
            "text": self.text,
            "words": self.words,
            "headings": [[h.level, h.anchor, h.text] for h in self.headings],
            "links": list(self.links),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Rendered:
        return cls(
            html=data["html"],
            text=data["text"],
            words=int(data["words"]),
            headings=tuple(Heading(int(a), str(b), str(c)) for a, b, c in data.get("headings", [])),
            links=tuple(data.get("links", [])),
        )


class _Polish(Treeprocessor):
    """The article's title is the page's only ``h1``: headings written with ``#`` become
    ``h2``. Local images get their width, height and responsive sizes; all load lazily."""

    def __init__(self, md: markdown.Markdown, lookup: Callable[[], ImageLookup | None]) -> None:
        super().__init__(md)
        self.lookup = lookup

    def run(self, root: etree.Element) -> None:
        for heading in root.iter("h1"):
            heading.tag = "h2"
        lookup = self.lookup()
        for image in root.iter("img"):
            image.set("loading", "lazy")
            image.set("decoding", "async")
            source = image.get("src", "")
            size = lookup(source) if lookup is not None and source.startswith("/") else None
            if size is not None:
                image.set("width", str(size.width))
                image.set("height", str(size.height))
                if size.srcset:
                    image.set("srcset", size.srcset)
                    image.set("sizes", "(max-width: 44rem) 100vw, 42rem")


class _ImageExtension(Extension):
    def __init__(self, lookup: Callable[[], ImageLookup | None]) -> None:
        super().__init__()
        self.lookup = lookup

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # After the inline patterns (20) and before the table of contents (5).
        md.treeprocessors.register(_Polish(md, self.lookup), "pullfirst_polish", 6)


def _heading_slug(value: str, separator: str) -> str:
    words = re.findall(r"[a-z0-9]+", value.lower().encode("ascii", "ignore").decode())
    return separator.join(words)[:60] or "section"


class _Renderer:
    """One Markdown instance per thread (building one costs more than rendering a page)."""

    def __init__(self) -> None:
        self.lookup: ImageLookup | None = None
        self.md = markdown.Markdown(
            extensions=[
                "tables",
                "fenced_code",
                "codehilite",
                "toc",
                "footnotes",
                "admonition",
                "sane_lists",
                "def_list",
                "abbr",
                "smarty",
                _ImageExtension(lambda: self.lookup),
                LinearLinks(),
            ],
            extension_configs={
                "tables": {"use_align_attribute": True},
                "codehilite": {"css_class": "highlight", "guess_lang": False, "use_pygments": True},
                "toc": {
                    "permalink": "#",
                    "permalink_title": "Link to this section",
                    "slugify": _heading_slug,
                    "toc_depth": "2-3",
                },
                "footnotes": {"BACKLINK_TITLE": "Back to the text"},
            },
            output_format="html",
        )


_threads = threading.local()


def _renderer() -> _Renderer:
    renderer: _Renderer | None = getattr(_threads, "renderer", None)
    if renderer is None:
        renderer = _threads.renderer = _Renderer()
    return renderer


_LINK = re.compile(r'\b(?:href|src)="([^"]*)"')


def _headings(tokens: list[dict[str, Any]]) -> list[Heading]:
    found: list[Heading] = []
    for token in tokens:
        name = html.unescape(re.sub(r"<[^>]*>", "", str(token.get("name", ""))))
        found.append(Heading(int(token["level"]), str(token["id"]), name))
        found.extend(_headings(token.get("children", [])))
    return found


def render_markdown(
    body: str, images: ImageLookup | None = None, seconds: float = DEFAULT_SECONDS
) -> Rendered:
    """Render ``body`` and sanitize the result.

    Raises :class:`~app.site.errors.OverBudget` (its ``line`` counts from the body's first
    line) when the body crosses a limit of :mod:`app.site.budget` or took longer than
    ``seconds``; never raises for any other odd Markdown."""
    check_shape(body)
    return within(seconds, lambda: _render(body, images))


def _render(body: str, images: ImageLookup | None) -> Rendered:
    renderer = _renderer()
    renderer.lookup = images
    md = renderer.md
    md.reset()
    try:
        raw = md.convert(body)
        tokens = list(getattr(md, "toc_tokens", []))
    finally:
        renderer.lookup = None
    clean = sanitize(raw)
    text = plain_text(clean)
    links = tuple(dict.fromkeys(html.unescape(m) for m in _LINK.findall(clean)))
    return Rendered(
        html=clean,
        text=text,
        words=len(text.split()),
        headings=tuple(_headings(tokens)),
        links=links,
    )
