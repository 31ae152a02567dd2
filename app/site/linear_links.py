"""Python-Markdown's link, image, reference and footnote patterns, with scans that cost a
bounded amount of work per ``[``.

The stock link scanner walks forward from every ``[`` to its matching ``]``, to the end of the
paragraph when there is none, and the destination scanner does the same from every ``](``: a
run of ``[`` is quadratic. Here link text is found among the brackets only (a C-level search),
giving up past :data:`MAX_LINK_NESTING` levels of ``[`` or :data:`MAX_LINK_TEXT` characters,
and a destination is scanned over at most :data:`MAX_DESTINATION` characters and
:data:`MAX_DESTINATION_MARKS` parentheses and quotes. Within those bounds every link comes out
exactly as Python-Markdown makes it (a test compares the two on the demo content); beyond them
the text stays text. The footnote mark is limited to 200 characters of label.
"""

from __future__ import annotations

import re

import markdown
from markdown import inlinepatterns as patterns
from markdown.extensions import Extension
from markdown.extensions.footnotes import FootnoteInlineProcessor

MAX_LINK_NESTING = 4
MAX_LINK_TEXT = 4_000
MAX_DESTINATION = 4_000
MAX_DESTINATION_MARKS = 16

_BRACKET = re.compile(r"[\[\]]")
_DESTINATION_MARK = re.compile(r"[()\"']")


class _BoundedScans(patterns.LinkInlineProcessor):
    """Link text and destination found by bounded scans (same results for every link within
    the bounds; anything larger is left as text)."""

    def getText(self, data: str, index: int) -> tuple[str, int, bool]:
        depth = 1
        for bracket in _BRACKET.finditer(data, index, min(len(data), index + MAX_LINK_TEXT)):
            depth += 1 if bracket.group() == "[" else -1
            if depth > MAX_LINK_NESTING:
                break
            if depth == 0:
                return data[index : bracket.start()], bracket.end(), True
        return "", index, False

    def getLink(self, data: str, index: int) -> tuple[str, str | None, int, bool]:
        end = min(len(data), index + MAX_DESTINATION)
        for count, mark in enumerate(_DESTINATION_MARK.finditer(data, index, end), start=1):
            if count > MAX_DESTINATION_MARKS:
                end = mark.start()
                break
        href, title, stop, handled = super().getLink(data[index:end], 0)
        return href, title, index + stop, handled


class _Link(_BoundedScans):
    pass


class _Image(_BoundedScans, patterns.ImageInlineProcessor):
    pass


class _Reference(_BoundedScans, patterns.ReferenceInlineProcessor):
    pass


class _ShortReference(_BoundedScans, patterns.ShortReferenceInlineProcessor):
    pass


class _ImageReference(_BoundedScans, patterns.ImageReferenceInlineProcessor):
    pass


class _ShortImageReference(_BoundedScans, patterns.ShortImageReferenceInlineProcessor):
    pass


_FOOTNOTE_MARK = r"\[\^([^\]\[]{1,200})\]"


class LinearLinks(Extension):
    """Replaces Python-Markdown's link, image, reference and footnote patterns with the bounded
    ones above, under the same names and priorities. List it after ``footnotes``."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        registry = md.inlinePatterns
        for name, kind, pattern, priority in (
            ("reference", _Reference, patterns.REFERENCE_RE, 170),
            ("link", _Link, patterns.LINK_RE, 160),
            ("image_link", _Image, patterns.IMAGE_LINK_RE, 150),
            ("image_reference", _ImageReference, patterns.IMAGE_REFERENCE_RE, 140),
            ("short_reference", _ShortReference, patterns.REFERENCE_RE, 130),
            ("short_image_ref", _ShortImageReference, patterns.IMAGE_REFERENCE_RE, 125),
        ):
            registry.register(kind(pattern, md), name, priority)
        if "footnote" in registry:
            footnotes = registry["footnote"]
            assert isinstance(footnotes, FootnoteInlineProcessor)
            registry.register(
                FootnoteInlineProcessor(_FOOTNOTE_MARK, footnotes.footnotes), "footnote", 175
            )
