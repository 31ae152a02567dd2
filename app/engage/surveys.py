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
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from app.engage.markup import check_intro
from app.engage.yamllines import line_of, value_lines
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
        self.lines = value_lines(source)
        self.found: list[SourceError] = []

    def add(self, where: tuple[str | int, ...], message: str) -> None:
        self.found.append(SourceError(self.source.path, line_of(self.lines, where), message))


def _text(
    meta: dict[str, Any],
    key: str,
    limit: int,
    problems: _Problems,
    where: tuple[str | int, ...],
    required: bool = True,
) -> str:
    value = meta.get(key)
    if value is None:
        if required:
            problems.add(where, f"{key} is missing")
        return ""
    if not isinstance(value, str) or not value.strip():
        problems.add((*where, key), f"{key} must be text")
        return ""
    if len(value) > limit:
        problems.add((*where, key), f"{key} is {len(value)} characters; the limit is {limit}")
    return value.strip()


def parse_moment(value: object, end_of_day: bool = False) -> datetime:
    """A date (``2026-11-01``) or an ISO date-time; raises ValueError with a short reason.

    A bare date is the start of that day in UTC, or with ``end_of_day`` the start of the next.
    Date-times without a zone are taken as UTC.
    """
    if not isinstance(value, str):
        raise ValueError(
            "must be a date such as 2026-11-01 or a date-time such as 2026-11-01T09:00:00Z"
        )
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time(), UTC)
            return moment + timedelta(days=1) if end_of_day else moment
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date such as 2026-11-01 or a date-time such as 2026-11-01T09:00:00Z"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _moment(meta: dict[str, Any], key: str, problems: _Problems) -> datetime | None:
    if meta.get(key) is None:
        return None
    try:
        return parse_moment(meta[key], end_of_day=key == "closes_at")
    except ValueError as exc:
        problems.add((key,), f"{key} {exc}")
        return None


def _options(
    item: dict[str, Any], kind: str, problems: _Problems, where: tuple[str | int, ...]
) -> tuple[str, ...]:
    raw = item.get("options")
    if kind not in CHOICE_TYPES:
        if raw is not None:
            problems.add((*where, "options"), f"a {kind} question has no options")
        return ()
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_OPTIONS:
        problems.add(
            (*where, "options"), f"a {kind} question needs a list of 2 to {MAX_OPTIONS} options"
        )
        return ()
    options: list[str] = []
    for index, option in enumerate(raw):
        if isinstance(option, bool) or not isinstance(option, str | int | float):
            problems.add((*where, "options", index), "each option must be a short text")
            continue
        text = str(option).strip()
        if not text or len(text) > MAX_OPTION:
            problems.add(
                (*where, "options", index), f"each option must be 1 to {MAX_OPTION} characters"
            )
        elif text in options:
            problems.add((*where, "options", index), f"option {text!r} is listed twice")
        else:
            options.append(text)
    return tuple(options)


def _max_length(
    item: dict[str, Any], kind: str, problems: _Problems, where: tuple[str | int, ...]
) -> int | None:
    raw = item.get("max_length")
    if kind != "text":
        if raw is not None:
            problems.add((*where, "max_length"), "only a text question has max_length")
        return None
    if raw is None:
        return DEFAULT_MAX_LENGTH
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_TEXT_LENGTH:
        problems.add(
            (*where, "max_length"), f"max_length must be a whole number from 1 to {MAX_TEXT_LENGTH}"
        )
        return DEFAULT_MAX_LENGTH
    return raw


def _question(item: object, index: int, seen: set[str], problems: _Problems) -> Question | None:
    where: tuple[str | int, ...] = ("questions", index)
    if not isinstance(item, dict):
        problems.add(where, "each question must be a mapping with id, type and label")
        return None
    for key in sorted(set(item) - QUESTION_FIELDS):
        problems.add(
            (*where, key),
            f"unknown question field {key!r} (known: {', '.join(sorted(QUESTION_FIELDS))})",
        )
    question_id = item.get("id")
    if not isinstance(question_id, str) or not QUESTION_ID.match(question_id):
        problems.add(
            (*where, "id"), "id must start with a letter and use a-z, 0-9, - and _ (at most 40)"
        )
        question_id = f"question-{index + 1}"
    elif question_id in seen:
        problems.add((*where, "id"), f"id {question_id!r} is used twice")
    seen.add(question_id)
    kind = item.get("type")
    if isinstance(kind, str) and CONSENT_TYPE.search(kind):
        problems.add((*where, "type"), CONSENT_MESSAGE)
        return None
    if kind not in TYPES:
        problems.add((*where, "type"), f"type must be one of {', '.join(TYPES)}, got {kind!r}")
        return None
    label = _text(item, "label", MAX_LABEL, problems, where)
    if CONSENT_LABEL.search(label):
        problems.add((*where, "label"), CONSENT_MESSAGE)
    required = item.get("required", False)
    if not isinstance(required, bool):
        problems.add((*where, "required"), "required must be true or false")
        required = False
    return Question(
        id=question_id,
        type=str(kind),
        label=label,
        required=required,
        options=_options(item, str(kind), problems, where),
        max_length=_max_length(item, str(kind), problems, where),
        hint=_text(item, "hint", MAX_LABEL, problems, where, required=False),
    )


def _questions(meta: dict[str, Any], problems: _Problems) -> tuple[Question, ...]:
    raw = meta.get("questions")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_QUESTIONS:
        problems.add(("questions",), f"questions must be a list of 1 to {MAX_QUESTIONS} questions")
        return ()
    seen: set[str] = set()
    questions = [q for i, item in enumerate(raw) if (q := _question(item, i, seen, problems))]
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
    meta = source.meta
    for key in sorted(set(meta) - FIELDS):
        problems.add((key,), f"unknown field {key!r} (known: {', '.join(sorted(FIELDS))})")
    title = _text(meta, "title", MAX_TITLE, problems, ())
    description = _text(meta, "description", MAX_DESCRIPTION, problems, (), required=False)
    opens_at = _moment(meta, "opens_at", problems)
    closes_at = _moment(meta, "closes_at", problems)
    if opens_at and closes_at and closes_at <= opens_at:
        problems.add(("closes_at",), "closes_at must come after opens_at")
    questions = _questions(meta, problems)
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
