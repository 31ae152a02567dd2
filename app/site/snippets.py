"""Highlighted snippets for search hits, from the stored plain text of each hit.

The index holds stems ("permission" → "permiss"); a reader wants to see the words they typed.
For each of the (at most ten) hits shown, one regular expression finds the candidate words that
start like a query stem, each candidate is confirmed by stemming it, and the window of text with
the most distinct matched stems becomes the snippet. No hit is re-analysed in full.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from markupsafe import Markup, escape

SNIPPET_CHARS = 220


def _prefix(stem: str) -> str:
    # Porter stems can end in a letter the word does not have ("happi" for "happy").
    return stem[:-1] if len(stem) > 3 else stem


def candidate_pattern(stems: Iterable[str]) -> re.Pattern[str] | None:
    prefixes = sorted({_prefix(s) for s in stems if s}, key=len, reverse=True)
    if not prefixes:
        return None
    alternatives = "|".join(re.escape(p) for p in prefixes)
    return re.compile(rf"\b(?:{alternatives})\w*", re.IGNORECASE)


class Highlighter:
    """Finds and marks the words of ``text`` whose stem is one of ``stems``."""

    def __init__(self, stems: Iterable[str], stem: Callable[[str], str]) -> None:
        self.stems = frozenset(stems)
        self.stem = stem
        self.pattern = candidate_pattern(self.stems)
        self._seen: dict[str, str | None] = {}

    def _stem_of(self, word: str) -> str | None:
        lowered = word.lower()
        if lowered not in self._seen:
            stemmed = self.stem(lowered)
            self._seen[lowered] = stemmed if stemmed in self.stems else None
        return self._seen[lowered]

    def matches(self, text: str, limit: int = 400) -> list[tuple[int, int, str]]:
        """``(start, end, stem)`` of matching words, in order, at most ``limit`` of them."""
        if self.pattern is None:
            return []
        found = []
        for match in self.pattern.finditer(text):
            stem = self._stem_of(match.group(0))
            if stem is not None:
                found.append((match.start(), match.end(), stem))
                if len(found) >= limit:
                    break
        return found

    def mark(self, text: str) -> Markup:
        """``text`` escaped, with every matching word in ``<mark>``."""
        return _marked(text, self.matches(text))

    def snippet(self, text: str, fallback: str = "") -> Markup:
        """The best window of about :data:`SNIPPET_CHARS` characters of ``text``, marked.
        Without a match, the start of ``fallback`` (or of ``text``)."""
        found = self.matches(text)
        if not found:
            lead = fallback or text
            return escape(_trim(lead, 0, SNIPPET_CHARS))
        start, end = _best_window(found)
        start = _word_start(text, max(0, start - 60))
        stop = min(len(text), max(end, start + SNIPPET_CHARS))
        stop = _word_end(text, stop)
        inside = [(s - start, e - start, st) for s, e, st in found if s >= start and e <= stop]
        body = _marked(text[start:stop], inside)
        prefix = "… " if start > 0 else ""
        suffix = " …" if stop < len(text) else ""
        return escape(prefix) + body + escape(suffix)


def _best_window(found: list[tuple[int, int, str]]) -> tuple[int, int]:
    """The span of matches with the most distinct stems within SNIPPET_CHARS characters."""
    best = (0, found[0][0], found[0][1])
    left = 0
    for right in range(len(found)):
        while found[right][1] - found[left][0] > SNIPPET_CHARS:
            left += 1
        distinct = len({stem for _, _, stem in found[left : right + 1]})
        if distinct > best[0]:
            best = (distinct, found[left][0], found[right][1])
    return best[1], best[2]


def _word_start(text: str, index: int) -> int:
    if index == 0:
        return 0
    space = text.find(" ", index)
    return space + 1 if 0 <= space < index + 30 else index


def _word_end(text: str, index: int) -> int:
    if index >= len(text):
        return len(text)
    space = text.rfind(" ", index - 30, index)
    return space if space > 0 else index


def _trim(text: str, start: int, length: int) -> str:
    if len(text) <= length:
        return text
    return text[start : _word_end(text, start + length)] + " …"


def _marked(text: str, spans: list[tuple[int, int, str]]) -> Markup:
    parts: list[str] = []
    cursor = 0
    for start, end, _ in spans:
        parts.append(str(escape(text[cursor:start])))
        parts.append(f"<mark>{escape(text[start:end])}</mark>")
        cursor = end
    parts.append(str(escape(text[cursor:])))
    return Markup("".join(parts))  # noqa: S704 - every piece escaped above
