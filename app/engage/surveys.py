"""Survey definitions: ``content/surveys/<slug>.md``, front matter plus an introduction.

::

    ---
    title: Reader survey 2026
    description: Five questions about what you read here.
    opens_at: 2026-11-01          # a date (start of that day, UTC) or an ISO date-time
    closes_at: 2027-06-30         # a date means "until the end of that day, UTC"
    questions:
      - id: role
        type: single              # single, multi, text, rating (1-5) or nps (0-10)
        label: What best describes your work?
        required: true
        options: [Marketing, Editorial, Something else]
      - id: wish
        type: text
        label: What should we write about next?
        max_length: 500
    ---
    The introduction, in Markdown.

A survey never asks for consent: a question type or label that asks for permission to contact is
refused, because consent is asked on its own, unticked, by the scope it is for.

:func:`read_survey` lists every problem of a file with its line, for ``flask content check``;
:mod:`app.engage.shelf` skips (and logs) such a file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from app.editorfiles.errors import EditorFileError
from app.editorfiles.fields import Fields
from app.engage.markup import check_intro
from app.site.errors import OverBudget, SourceOverBudget
from app.site.frontmatter import Source, SourceError, parse_source

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
QUESTION_ID = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
TYPES = ("single", "multi", "text", "rating", "nps")
CHOICE_TYPES = frozenset({"single", "multi"})
SCALES = {"rating": range(1, 6), "nps": range(0, 11)}
FIELDS = frozenset({"title", "description", "opens_at", "closes_at", "questions"})
QUESTION_FIELDS = frozenset({"id", "type", "label", "hint", "required", "options", "max_length"})
DEFAULT_MAX_LENGTH = 500
MAX_TEXT_LENGTH = 1000
MAX_TEXT_TOTAL = 2000  # answers are kept in the visitor's cookie while they sign in
MAX_QUESTIONS = 40
MAX_OPTIONS = 20
MAX_LABEL = 300
MAX_OPTION = 120
MAX_TITLE = 120
MAX_DESCRIPTION = 300
_T = TypeVar("_T")
CONSENT_TYPE = re.compile(r"consent|opt.?in|subscri|permission|newsletter", re.IGNORECASE)
CONSENT_LABEL = re.compile(
    r"\b(consent|opt[- ]?in)\b|\b(may|can|could) we (e-?mail|contact|message|send|notify|call|"
    r"text|write to)\b",
    re.IGNORECASE,
)
CONSENT_MESSAGE = (
    "a survey never asks for consent: remove this question and offer the scope "
    "on its own (a call to action such as 'scope:newsletter')"
)


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    label: str
    required: bool = False
    options: tuple[str, ...] = ()
    max_length: int | None = None
    hint: str = ""

    @property
    def scale(self) -> range:
        """The numbers a rating or NPS answer may take (empty for other types)."""
        return SCALES.get(self.type, range(0))


@dataclass(frozen=True)
class Survey:
    slug: str
    title: str
    description: str
    questions: tuple[Question, ...]
    intro: str
    version: str  # SHA-256 of the file: answers record the wording they replied to
    path: Path
    opens_at: datetime | None = None
    closes_at: datetime | None = None

    @property
    def action(self) -> str:
        return f"survey:{self.slug}"

    def state(self, now: datetime) -> str:
        """``upcoming``, ``open`` or ``closed``."""
        if self.opens_at is not None and now < self.opens_at:
            return "upcoming"
        if self.closes_at is not None and now >= self.closes_at:
            return "closed"
        return "open"

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


class _Problems:
    """Collects ``path:line: message`` problems for one file."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.found: list[SourceError] = []

    def add(self, where: tuple[str | int, ...], message: str) -> None:
        self.found.append(SourceError(self.source.path, self.source.line(*where), message))

    def keep(self, errors: Iterable[EditorFileError]) -> None:
        self.found.extend(SourceError(e.path, e.line, e.message) for e in errors)

    def read(self, read: Callable[[], _T], fallback: _T) -> _T:
        """The value ``read()`` returns, or ``fallback`` with its problem noted."""
        try:
            return read()
        except EditorFileError as exc:
            self.keep([exc])
            return fallback


def _options(fields: Fields, kind: str, problems: _Problems) -> tuple[str, ...]:
    raw = fields.get("options")
    if kind not in CHOICE_TYPES:
        if raw is not None:
            problems.add((*fields.where, "options"), f"a {kind} question has no options")
        return ()
    where = (*fields.where, "options")
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_OPTIONS:
        problems.add(where, f"a {kind} question needs a list of 2 to {MAX_OPTIONS} options")
        return ()
    options: list[str] = []
    for index, option in enumerate(raw):
        if isinstance(option, bool) or not isinstance(option, str | int | float):
            problems.add((*where, index), "each option must be a short text")
            continue
        text = str(option).strip()
        if not text or len(text) > MAX_OPTION:
            problems.add((*where, index), f"each option must be 1 to {MAX_OPTION} characters")
        elif text in options:
            problems.add((*where, index), f"option {text!r} is listed twice")
        else:
            options.append(text)
    return tuple(options)


def _max_length(fields: Fields, kind: str, problems: _Problems) -> int | None:
    if kind != "text":
        if fields.get("max_length") is not None:
            problems.add((*fields.where, "max_length"), "only a text question has max_length")
        return None
    return problems.read(
        lambda: fields.integer(
            "max_length", minimum=1, maximum=MAX_TEXT_LENGTH, default=DEFAULT_MAX_LENGTH
        ),
        DEFAULT_MAX_LENGTH,
    )


def _question(fields: Fields, index: int, seen: set[str], problems: _Problems) -> Question | None:
    where = fields.where
    problems.keep(fields.unknown(QUESTION_FIELDS, "question field"))
    question_id = fields.get("id")
    if not isinstance(question_id, str) or not QUESTION_ID.match(question_id):
        problems.add(
            (*where, "id"), "id must start with a letter and use a-z, 0-9, - and _ (at most 40)"
        )
        question_id = f"question-{index + 1}"
    elif question_id in seen:
        problems.add((*where, "id"), f"id {question_id!r} is used twice")
    seen.add(question_id)
    kind = fields.get("type")
    if isinstance(kind, str) and CONSENT_TYPE.search(kind):
        problems.add((*where, "type"), CONSENT_MESSAGE)
        return None
    kind = problems.read(lambda: fields.choice("type", TYPES), None)
    if kind is None:
        return None
    label = problems.read(lambda: fields.text("label", max_length=MAX_LABEL), "")
    if CONSENT_LABEL.search(label):
        problems.add((*where, "label"), CONSENT_MESSAGE)
    return Question(
        id=question_id,
        type=kind,
        label=label,
        required=problems.read(lambda: fields.flag("required"), False),
        options=_options(fields, kind, problems),
        max_length=_max_length(fields, kind, problems),
        hint=problems.read(lambda: fields.text("hint", max_length=MAX_LABEL, default=""), ""),
    )


def _questions(top: Fields, problems: _Problems) -> tuple[Question, ...]:
    raw = top.get("questions")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_QUESTIONS:
        problems.add(("questions",), f"questions must be a list of 1 to {MAX_QUESTIONS} questions")
        return ()
    seen: set[str] = set()
    questions = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            problems.add(
                ("questions", index), "each question must be a mapping with id, type and label"
            )
            continue
        fields = Fields(top.doc, item, ("questions", index))
        question = _question(fields, index, seen, problems)
        if question is not None:
            questions.append(question)
    total = sum(q.max_length or 0 for q in questions)
    if total > MAX_TEXT_TOTAL:
        problems.add(
            ("questions",),
            f"the text questions allow {total} characters in all; keep it to {MAX_TEXT_TOTAL}",
        )
    return tuple(questions)


def survey_from_source(source: Source) -> tuple[Survey | None, list[SourceError]]:
    """The survey a parsed file defines, or None with every problem found."""
    problems = _Problems(source)
    slug = source.path.stem
    if not SLUG.match(slug):
        problems.add(
            (),
            f"file name {source.path.name!r} must be a slug such as reader-2026.md (a-z, 0-9, -)",
        )
    top = source.fields()
    problems.keep(top.unknown(FIELDS))
    title = problems.read(lambda: top.text("title", max_length=MAX_TITLE), "")
    description = problems.read(
        lambda: top.text("description", max_length=MAX_DESCRIPTION, default=""), ""
    )
    opens_at = problems.read(lambda: top.moment("opens_at"), None)
    closes_at = problems.read(lambda: top.moment("closes_at", end_of_day=True), None)
    if opens_at and closes_at and closes_at <= opens_at:
        problems.add(("closes_at",), "closes_at must come after opens_at")
    questions = _questions(top, problems)
    try:
        check_intro(source.body)
    except OverBudget as exc:
        problems.found.append(SourceOverBudget.of(source.path, source.body_line, exc))
    if problems.found:
        return None, problems.found
    return Survey(
        slug=slug,
        title=title,
        description=description,
        questions=questions,
        intro=source.body,
        version=hashlib.sha256(source.raw).hexdigest(),
        path=source.path,
        opens_at=opens_at,
        closes_at=closes_at,
    ), []


def read_survey(path: Path) -> tuple[Survey | None, list[SourceError]]:
    """Parse and check one survey file."""
    try:
        source = parse_source(path)
    except SourceError as exc:
        return None, [exc]
    return survey_from_source(source)
