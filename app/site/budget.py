"""The render budget: no Markdown an editor or a marketer writes may hold a request, a worker
or ``flask content check`` for longer than ``RENDER_BUDGET_SECONDS`` (2 s by default).

Python-Markdown is not linear. Its link scanner walks to the end of the paragraph for every
``[`` it cannot close (2,000 took 0.5 s here, 8,000 took 7 s; 5,000 took 23 s on a slower
machine), its footnote pattern does the same for every ``[^``, the HTML reader looks for the end
of every unclosed tag up to the end of the text, the block parser re-tests the rest of a run of
lines after each definition it splits off, nesting recurses once per level until Python's
recursion limit, and every inline match rebuilds its paragraph. The budget is kept in three
layers:

1. **Shape limits** (:func:`check_shape`), one linear pass over the text before the parser sees
   it: at most :data:`MAX_CHARS` characters; :data:`MAX_MARKS` inline marks in all and
   :data:`MAX_PARAGRAPH_MARKS` in one paragraph (the marks that start an inline pattern:
   backticks, backslashes, ``[``, ``<``, ``&``, ``*``, ``_``, quotes, ``--``, ``...`` and hard
   line breaks); :data:`MAX_BLOCKS` paragraphs, headings, list items and table cells;
   :data:`MAX_NESTING` levels of lists, quotes and indentation on a line; :data:`MAX_CODE_BLOCKS`
   fenced code blocks and :data:`MAX_CODE_CHARS` characters of code (each is highlighted);
   :data:`MAX_FOOTNOTES` footnotes and :data:`MAX_ABBREVIATIONS` abbreviations; and two
   products that bound the quadratic parts above (unclosed tags times the text's length,
   definitions split off a run of lines times its length). Crossing one raises
   :class:`~app.site.errors.OverBudget` naming the line, before any time is spent. The limits
   were set so that the worst text they allow renders in about a second on a busy two-core
   host; ordinary articles are far inside them.
2. **Linear scanners** (:class:`app.site.linear_links.LinearLinks`): the link, image, reference
   and footnote patterns give up on what no real link looks like, so each ``[`` costs a bounded
   amount of work and a run of 50,000 ``[`` renders as text in milliseconds.
3. **A clock**: :func:`within` times the render (in processor time) and raises ``OverBudget``
   when it took longer than the budget, so a text that was slow anyway is refused, never shown
   half-done. Deep recursion is refused the same way.

Why not a separate process with a deadline for every render? It is the only way to stop a
render that has started, but it puts a process hop on every render and a pool of processes in
every web process (forked beside its threads and its SQLAlchemy engine, which is unsafe, or
started from a fork server, which costs a cold start per web process), to guard renders that
the layers above keep to milliseconds. In-process, the shape check costs 0.15 ms of an
article's 4 ms render and the bounded scanners nothing measurable, so the cold build of 10,000
articles stays as fast as before. The hard deadline is kept where every file is rendered at
once and nobody waits on a page: ``flask content check`` and ``content index --rebuild``
render in worker processes that are killed and replaced when a file runs past it
(:mod:`app.site.build`, :mod:`app.site.deadline`). ``tests/site/test_budget.py`` holds the
pathological texts and a Hypothesis fuzzer of Markdown's metacharacters in long runs, each
rendered or refused within the budget.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TypeVar

from app.site.errors import OverBudget

DEFAULT_SECONDS = 2.0
MAX_CHARS = 300_000
MAX_MARKS = 10_000
MAX_PARAGRAPH_MARKS = 2_000
MAX_BLOCKS = 3_000
MAX_NESTING = 16
MAX_CODE_BLOCKS = 1_000
MAX_CODE_CHARS = 100_000
MAX_SPLIT_WORK = 10_000_000
MAX_TAG_WORK = 20_000_000
MAX_FOOTNOTES = 1_000
# Python-Markdown gives each reference to a footnote an id unique among the references to it,
# by trying every earlier one: references to one footnote cost their count squared.
MAX_FOOTNOTE_REFERENCES = 300
MAX_ABBREVIATIONS = 100

_MARK = re.compile(r"[`\\\[<&*_'\"]|--|\.\.\.|  $")
_FENCE = re.compile(r"^(`{3,}|~{3,})")
_CONTAINER = re.compile(r"[ \t]*(?:>|(?:[*+-]|\d{1,9}[.)])(?=[ \t]|$))[ \t]?")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_NEW_BLOCK = re.compile(r"[ \t>]*(?:[*+-][ \t]|\d{1,9}[.)][ \t]|#|\||:[ \t]|!!!)")
_FOOTNOTE = re.compile(r"^ {0,3}\[\^[^\]]+\]:")
_SPLITS = re.compile(r" {0,3}(?:\*?\[[^\]]+\]:|#|!!!|(?:=+|-+|\*+|_+)[ \t]*$)")
_ABBREVIATION = re.compile(r"^ {0,3}\*\[[^\]]+\]:")

_TAG = re.compile(r"<!--|-->|<[A-Za-z/!?]|>")

T = TypeVar("T")


def _unclosed_tags(line: str) -> int:
    """How many tags and comments open on ``line`` and do not close on it."""
    tags = comments = 0
    for token in _TAG.finditer(line):
        kind = token.group()
        if kind == "<!--":
            comments += 1
        elif kind == "-->":
            tags = comments = 0
        elif kind == ">":
            tags = 0
        else:
            tags += 1
    return tags + comments


def _nesting(line: str) -> int:
    """Levels of container a line opens: its indentation in steps of four columns, plus the
    quote and list markers that start it."""
    width = len(line) - len(line.lstrip(" \t"))
    columns = len(line[:width].expandtabs(4))
    depth, position = columns // 4, width
    while (marker := _CONTAINER.match(line, position)) is not None and marker.end() > position:
        depth += 1
        position = marker.end()
    return depth


def check_shape(text: str) -> None:
    """Raise :class:`OverBudget` at the first line where ``text`` crosses one of the limits
    above. One pass, linear in the length of the text; renders nothing."""
    if len(text) > MAX_CHARS:
        raise OverBudget(
            f"the text is {len(text):,} characters; the limit is {MAX_CHARS:,}. "
            "Split it into several pages.",
            text.count("\n", 0, MAX_CHARS) + 1,
        )
    shape = _Shape(len(text))
    references = 0
    for number, line in enumerate(text.split("\n"), start=1):
        problem = shape.add(line)
        # Counted on every line, code included: where a fence really ends is the parser's
        # call, and a limit must not hang on the checker reading it the same way.
        references += line.count("[^")
        if problem is None and references > MAX_FOOTNOTE_REFERENCES:
            problem = f"more than {MAX_FOOTNOTE_REFERENCES} footnote marks ([^…])."
        if problem is not None:
            raise OverBudget(problem, number)


class _Shape:
    """The running counts of :func:`check_shape`; :meth:`add` returns the limit a line
    crosses, if any."""

    def __init__(self, length: int) -> None:
        self.length = length
        # The HTML reader looks for the end of every tag it sees open, up to the end of the
        # text: an unclosed one costs the length of the text.
        self.open_tags = 0
        self.marks = self.paragraph = self.blocks = self.code = 0
        self.fences = self.footnotes = self.abbreviations = 0
        self.fence = ""
        self.blank = True
        # The block parser splits a definition, a heading or a rule off the run of lines it
        # sits in and tests the rest again: each split costs the length of the run.
        self.run_chars = self.run_splits = self.split_work = 0

    def add(self, line: str) -> str | None:
        opened = _FENCE.match(line)
        if self.fence:
            self.code += len(line) + 1
            if (
                opened
                and opened.group(1)[0] == self.fence[0]
                and len(opened.group(1)) >= len(self.fence)
            ):
                self.fence = ""
            return (
                f"more than {MAX_CODE_CHARS:,} characters of code blocks."
                if self.code > MAX_CODE_CHARS
                else None
            )
        if opened:
            self.fence, self.fences, self.paragraph = opened.group(1), self.fences + 1, 0
            self.blocks += 1
            return (
                f"more than {MAX_CODE_BLOCKS:,} code blocks."
                if self.fences > MAX_CODE_BLOCKS
                else self._blocks()
            )
        if not line.strip():
            self.blank = True
            self.split_work += self.run_chars * self.run_splits
            self.run_chars = self.run_splits = 0
            return None
        self.run_chars += len(line) + 1
        self.run_splits += bool(_SPLITS.match(line))
        if self.split_work + self.run_chars * self.run_splits > MAX_SPLIT_WORK:
            return (
                "too many definitions, headings and rules among long runs of lines without "
                "a blank line; put blank lines between them."
            )
        self.open_tags += _unclosed_tags(line)
        if self.open_tags * self.length > MAX_TAG_WORK:
            return (
                "too many '<' that open an HTML tag or comment without closing it on the "
                "same line, for a text this long; write &lt; for a literal '<'."
            )
        if self.blank or _NEW_BLOCK.match(line):
            self.paragraph = 0
            self.blocks += 1
        self.blank = False
        self.blocks += line.count("|")
        if not _RULE.match(line) and (depth := _nesting(line)) > MAX_NESTING:
            return (
                f"nested {depth} levels deep (lists, quotes and indentation); the limit "
                f"is {MAX_NESTING}."
            )
        found = len(_MARK.findall(line))
        self.marks, self.paragraph = self.marks + found, self.paragraph + found
        if self.paragraph > MAX_PARAGRAPH_MARKS:
            return (
                f"more than {MAX_PARAGRAPH_MARKS:,} links, emphases, code spans, quotes "
                "and other inline marks in one paragraph. Split it."
            )
        if self.marks > MAX_MARKS:
            return (
                f"more than {MAX_MARKS:,} links, emphases, code spans, quotes and other "
                "inline marks in all. Split the text."
            )
        self.footnotes += bool(_FOOTNOTE.match(line))
        if self.footnotes > MAX_FOOTNOTES:
            return f"more than {MAX_FOOTNOTES:,} footnotes."
        self.abbreviations += bool(_ABBREVIATION.match(line))
        if self.abbreviations > MAX_ABBREVIATIONS:
            return f"more than {MAX_ABBREVIATIONS} abbreviations."
        return self._blocks()

    def _blocks(self) -> str | None:
        if self.blocks > MAX_BLOCKS:
            return (
                f"more than {MAX_BLOCKS:,} paragraphs, headings, list items and table "
                "cells. Split the text into several pages."
            )
        return None


def within(seconds: float, render: Callable[[], T]) -> T:
    """``render()``, refused with :class:`OverBudget` when it recursed too deeply or took longer
    than ``seconds`` (its result is then dropped: a slow text is never shown).

    The clock is the processor time of the rendering thread: what the text costs, which a busy
    host does not change (a render is never refused, and an article never hidden, because other
    processes had the processor). How long a busy host makes a render wait is bounded by the
    shape limits, and in ``content check`` by the hard deadline, which counts wall time."""
    started = time.thread_time()
    try:
        result = render()
    except RecursionError:
        raise OverBudget(
            "nested too deeply to render (lists, quotes, emphasis or links inside one another)."
        ) from None
    elapsed = time.thread_time() - started
    if elapsed > seconds:
        raise OverBudget(
            f"rendering took {elapsed:.1f} s; the budget is {seconds:g} s. "
            "Split the text or simplify its Markdown.",
            slow_under=seconds,
        )
    return result


def slowest_paragraph(text: str, render: Callable[[str], object]) -> int:
    """The first line of the paragraph of ``text`` that takes longest to render on its own
    (code blocks are kept whole): where to look when a whole text was over the budget."""
    chunks: list[tuple[int, list[str]]] = []
    fence, blank = "", True
    for number, line in enumerate(text.split("\n"), start=1):
        if not fence and not line.strip():
            blank = True
            continue
        if blank and not fence:
            chunks.append((number, []))
        blank = False
        chunks[-1][1].append(line)
        opened = _FENCE.match(line)
        if fence and opened and opened.group(1)[0] == fence[0]:
            fence = ""
        elif not fence and opened:
            fence = opened.group(1)
    slowest, found = -1.0, 1
    for start, lines in chunks:
        began = time.thread_time()
        try:
            render("\n".join(lines))
        except (OverBudget, RecursionError):
            return start
        if (spent := time.thread_time() - began) > slowest:
            slowest, found = spent, start
    return found
