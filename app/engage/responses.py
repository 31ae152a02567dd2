"""Answering a survey: find it, check the answers against its definition, store one response.

Answers arrive as a form does: each question id maps to the list of values sent for it. They are
checked against the survey's definition and stored as structured values (text, a list of options
in the survey's order, a number, or None for an optional question left blank), with the version
of the survey they answered. One response per member and survey: the database's unique
constraint decides, whatever the concurrency.

A member sees their answers on their rewards page (:func:`answers_of`) and may correct them at
any time, even after the survey closed (:func:`correct_response`): the same checks apply, the
answers are replaced in place and ``corrected_at`` says when. Campaigns that target by answer
read the corrected ones from then on.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.engage.actions import record_action
from app.engage.dates import long_date
from app.engage.errors import AlreadyAnswered, InvalidAnswers, SurveyClosed, SurveyUnknown
from app.engage.models import SurveyResponse
from app.engage.shelf import SURVEYS, SurveyShelf
from app.engage.surveys import Question, Survey
from app.extensions import db

Submitted = Mapping[str, Sequence[str]]
Answer = str | int | list[str] | None

MAX_RAW_VALUE = 10_000
CARRY_BUDGET = 2_500  # bytes of JSON kept in the visitor's session cookie while they sign in


def shelf() -> SurveyShelf:
    return SURVEYS.get().get()


def get_survey(slug: str) -> Survey:
    """The survey named ``slug``; raises :class:`SurveyUnknown`."""
    survey = shelf().surveys.get(slug)
    if survey is None:
        raise SurveyUnknown("There is no survey at this address.")
    return survey


# --- checking answers ---------------------------------------------------------------------


def _no_controls(text: str) -> bool:
    return all(c in "\n\t" or unicodedata.category(c) != "Cc" for c in text)


def _clean_choice(question: Question, values: list[str]) -> Answer:
    if question.type == "single":
        if len(values) > 1:
            raise ValueError("Choose only one answer.")
        if values and values[0] not in question.options:
            raise ValueError("Choose one of the answers listed.")
        if not values:
            return None
        return values[0]
    if any(value not in question.options for value in values):
        raise ValueError("Choose among the answers listed.")
    chosen = [option for option in question.options if option in values]
    return chosen or None


def _clean_text(question: Question, values: list[str]) -> Answer:
    if len(values) > 1:
        raise ValueError("Send one answer.")
    text = values[0].replace("\r\n", "\n").replace("\r", "\n").strip() if values else ""
    limit = question.max_length or 0
    if len(text) > limit:
        raise ValueError(f"Keep it to {limit} characters; this has {len(text)}.")
    if not _no_controls(text):
        raise ValueError("Remove the control characters from this answer.")
    return text or None


def _clean_number(question: Question, values: list[str]) -> Answer:
    if len(values) > 1:
        raise ValueError("Choose only one number.")
    if not values:
        return None
    low, high = question.scale[0], question.scale[-1]
    try:
        number = int(values[0])
    except ValueError:
        raise ValueError(f"Choose a number from {low} to {high}.") from None
    if number not in question.scale or values[0] != str(number):
        raise ValueError(f"Choose a number from {low} to {high}.")
    return number


def clean_answer(question: Question, raw: Sequence[str]) -> Answer:
    """The stored form of one question's answer; raises ValueError with the message to show."""
    if len(raw) > len(question.options) + 2:
        raise ValueError("Too many answers were sent for this question.")
    if any(len(value) > MAX_RAW_VALUE for value in raw):
        raise ValueError("This answer is too long.")
    values = [value.strip() for value in raw if value.strip()]
    if question.type in ("single", "multi"):
        answer = _clean_choice(question, values)
    elif question.type == "text":
        answer = _clean_text(question, list(raw[:2]) if raw else [])
    else:
        answer = _clean_number(question, values)
    if answer is None and question.required:
        raise ValueError(
            {
                "single": "Choose an answer.",
                "multi": "Choose at least one answer.",
                "text": "Write an answer.",
            }.get(question.type, "Choose a number.")
        )
    return answer


def clean_answers(survey: Survey, submitted: Submitted) -> dict[str, Answer]:
    """Every question's stored answer; raises :class:`InvalidAnswers` listing each problem.

    Values sent for names that are not questions are ignored.
    """
    answers: dict[str, Answer] = {}
    errors: dict[str, str] = {}
    for question in survey.questions:
        try:
            answers[question.id] = clean_answer(question, list(submitted.get(question.id, [])))
        except ValueError as exc:
            errors[question.id] = str(exc)
    if errors:
        raise InvalidAnswers(errors)
    return answers


def form_values(answers: Mapping[str, Answer]) -> dict[str, list[str]]:
    """Stored answers as a form would send them again (to fill the form back in)."""
    values: dict[str, list[str]] = {}
    for key, answer in answers.items():
        if isinstance(answer, list):
            values[key] = [str(item) for item in answer]
        elif answer is not None:
            values[key] = [str(answer)]
    return values


def fits_in_session(values: Mapping[str, list[str]]) -> bool:
    """Whether answers are small enough to keep in the session cookie during sign-in."""
    return len(json.dumps(values)) <= CARRY_BUDGET


# --- storing responses --------------------------------------------------------------------


def check_open(survey: Survey, now: datetime) -> None:
    """Raise :class:`SurveyClosed` unless ``survey`` takes answers at ``now``."""
    state = survey.state(now)
    if state == "upcoming" and survey.opens_at is not None:
        raise SurveyClosed(f"This survey opens on {long_date(survey.opens_at)}.")
    if state == "closed":
        raise SurveyClosed("This survey is closed. Thank you for your interest.")


def response_of(member_id: int, slug: str) -> SurveyResponse | None:
    return db.session.scalar(
        select(SurveyResponse).where(
            SurveyResponse.member_id == member_id, SurveyResponse.survey == slug
        )
    )


def submit_response(
    member_id: int, survey: Survey, submitted: Submitted, now: datetime
) -> SurveyResponse:
    """Check and store a member's answers, and record ``survey:<slug>``; the caller commits.

    Raises :class:`SurveyClosed`, :class:`AlreadyAnswered` or :class:`InvalidAnswers`; nothing
    is written when it raises.
    """
    check_open(survey, now)
    answers = clean_answers(survey, submitted)
    if response_of(member_id, survey.slug) is not None:
        raise AlreadyAnswered("You already answered this survey. Thank you!")
    response = SurveyResponse(
        member_id=member_id,
        survey=survey.slug,
        version=survey.version,
        answers=answers,
        submitted_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(response)
    except IntegrityError:
        raise AlreadyAnswered("You already answered this survey. Thank you!") from None
    record_action(member_id, survey.action, now)
    return response


def responses_for(slug: str) -> Iterator[SurveyResponse]:
    """Every response to ``slug``, oldest first, read in batches."""
    query = (
        select(SurveyResponse)
        .where(SurveyResponse.survey == slug)
        .order_by(SurveyResponse.submitted_at, SurveyResponse.id)
        .execution_options(yield_per=500)
    )
    yield from db.session.scalars(query)


def response_counts() -> dict[str, int]:
    rows = db.session.execute(
        select(SurveyResponse.survey, func.count()).group_by(SurveyResponse.survey)
    ).all()
    return {slug: int(count) for slug, count in rows}


def responses_of(member_id: int) -> list[dict[str, Any]]:
    """A member's responses for their data export."""
    rows = db.session.scalars(
        select(SurveyResponse)
        .where(SurveyResponse.member_id == member_id)
        .order_by(SurveyResponse.submitted_at)
    )
    return [
        {
            "survey": r.survey,
            "version": r.version,
            "answers": r.answers,
            "submitted_at": r.submitted_at.isoformat(),
            "corrected_at": r.corrected_at.isoformat() if r.corrected_at else None,
        }
        for r in rows
    ]


# --- the member's own answers -------------------------------------------------------------


@dataclass(frozen=True)
class ShownAnswer:
    label: str  # the question as the survey asks it
    answer: str  # the answer in words; empty when the member left it blank


@dataclass(frozen=True)
class AnsweredSurvey:
    slug: str
    title: str
    told_at: datetime  # when the answers were last given: corrected, else submitted
    corrected: bool
    answers: tuple[ShownAnswer, ...]


def answer_words(answer: object) -> str:
    """A stored answer as a sentence shows it: options joined with commas, "" for none."""
    if answer is None:
        return ""
    if isinstance(answer, list):
        return ", ".join(str(item) for item in answer)
    return str(answer)


def answers_of(member_id: int) -> list[AnsweredSurvey]:
    """The member's answers, per survey that still exists, oldest first, with each question
    of the survey as it reads today (questions removed since are left out)."""
    rows = db.session.scalars(
        select(SurveyResponse)
        .where(SurveyResponse.member_id == member_id)
        .order_by(SurveyResponse.submitted_at, SurveyResponse.id)
    )
    surveys = shelf().surveys
    found = []
    for response in rows:
        survey = surveys.get(response.survey)
        if survey is None:
            continue
        stored = response.answers if isinstance(response.answers, dict) else {}
        found.append(
            AnsweredSurvey(
                survey.slug,
                survey.title,
                response.corrected_at or response.submitted_at,
                response.corrected_at is not None,
                tuple(
                    ShownAnswer(q.label, answer_words(stored.get(q.id))) for q in survey.questions
                ),
            )
        )
    return found


def correct_response(
    member_id: int, survey: Survey, submitted: Submitted, now: datetime
) -> SurveyResponse:
    """Replace the member's answers to ``survey`` with ``submitted`` (checked as when
    answering; open or closed does not matter) and set ``corrected_at``; the caller commits.

    Raises :class:`SurveyUnknown` when the member never answered the survey and
    :class:`InvalidAnswers` when an answer breaks the definition; nothing is written then.
    """
    response = response_of(member_id, survey.slug)
    if response is None:
        raise SurveyUnknown("You have not answered this survey, so there is nothing to correct.")
    answers = clean_answers(survey, submitted)
    response.answers, response.version, response.corrected_at = answers, survey.version, now
    return response
