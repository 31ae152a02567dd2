"""The lead of an article: its opening paragraphs, as its author wrote them.

A digest shows each article by its lead, not by a teaser or the description: the Markdown of
the paragraphs the body opens with, up to the first heading (at most :data:`LEAD_PARAGRAPHS`).
Images, lists or code before the first paragraph are passed over; a heading before it too (an
article that opens with a heading leads with the paragraph under it). The link reference
definitions of the whole body come along, so a ``[text][ref]`` link in the lead still works.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from app.site.frontmatter import SourceError, parse_source
from app.site.pages import Page

LEAD_PARAGRAPHS = 2
_REFERENCE = re.compile(r"^ {0,3}\[[^\]^][^\]]*\]:\s*\S")
_HEADING = re.compile(r"^ {0,3}#{1,6}(\s|$)")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")
# The first line of a block that is not a paragraph: a list item, quote, fence, table, raw
# HTML, a thematic break, an image alone, or indented code.
_NOT_PARAGRAPH = re.compile(
    r"^( {4}|\t| {0,3}([-*+]\s|\d+[.)]\s|>|```|~~~|\||<|!\[|\[\^|([-*_]\s*){3,}$))"
)


def _blocks(body: str) -> list[list[str]]:
    """The body's blocks: runs of lines between blank lines (a fenced block kept whole)."""
    blocks: list[list[str]] = []
    current: list[str] = []
    fence: str | None = None
    for line in body.splitlines():
        stripped = line.strip()
        if fence is not None:
            current.append(line)
            if stripped.startswith(fence):
                fence = None
            continue
        if stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        if not stripped and fence is None:
            if current:
                blocks.append(current)
                current = []
            continue
        current.append(line)
    if current:
        blocks.append(current)
    return blocks


def lead_of(body: str, paragraphs: int = LEAD_PARAGRAPHS) -> str:
    """The Markdown of the opening paragraphs of ``body`` (see the module's text); empty
    when the body has no paragraph at all."""
    chosen: list[str] = []
    references = [line for line in body.splitlines() if _REFERENCE.match(line)]
    for block in _blocks(body):
        first = block[0]
        heading = _HEADING.match(first) is not None or (
            len(block) > 1 and _SETEXT.match(block[-1]) is not None
        )
        if heading or _NOT_PARAGRAPH.match(first) or all(_REFERENCE.match(b) for b in block):
            if chosen:
                break  # the lead ends where something other than a paragraph begins
            continue
        chosen.append("\n".join(block))
        if len(chosen) >= paragraphs:
            break
    if not chosen:
        return ""
    if references:
        chosen.append("\n".join(references))
    return "\n\n".join(chosen)


@lru_cache(maxsize=256)
def _lead(file: str, _hash: str, paragraphs: int) -> str:
    try:
        source = parse_source(Path(file))
    except (SourceError, OSError):
        return ""
    return lead_of(source.body, paragraphs)


def lead_markdown(page: Page, paragraphs: int = LEAD_PARAGRAPHS) -> str:
    """The lead of ``page`` as Markdown (read from its file; kept per version of the file).
    Empty when the file cannot be read any more."""
    return _lead(page.file, page.hash, paragraphs)
