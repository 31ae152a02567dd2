"""What a survey's responses add up to, and the CSV export of every response.

Counts are made over every response, whatever version of the survey it answered; an option that
a later version removed still shows, marked as retired. The CSV export is safe to open in a
spreadsheet: a cell that would start a formula is prefixed with an apostrophe (OWASP's advice
against CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from app.engage.responses import responses_for
from app.engage.surveys import Question, Survey
from app.tabular import safe_cell

LATEST_TEXTS = 50
NPS_TONES = {
    **dict.fromkeys(range(0, 7), "detractor"),
    7: "passive",
    8: "passive",
    9: "promoter",
    10: "promoter",
}


@dataclass(frozen=True)
class OptionCount:
    label: str
    count: int
    share: float  # of the members who answered the question
    tone: str = "plain"
    retired: bool = False


@dataclass
class QuestionResult:
    question: Question
    answered: int = 0
    counts: list[OptionCount] = field(default_factory=list)
    average: float | None = None
    nps: int | None = None
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    texts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SurveyResults:
    survey: Survey
    responses: int
    questions: list[QuestionResult]
    versions: int  # how many versions of the survey the responses answered


def _tone(question: Question, label: str) -> str:
    if question.type == "nps" and label.isdigit():
        return NPS_TONES.get(int(label), "plain")
    return "plain"


def _counts(question: Question, tally: Counter[str], answered: int) -> list[OptionCount]:
    if question.type in ("rating", "nps"):
        offered = [str(n) for n in question.scale]
    else:
        offered = list(question.options)
    retired = sorted(label for label in tally if label not in offered)
    return [
        OptionCount(
            label,
            tally[label],
            tally[label] / answered if answered else 0.0,
            _tone(question, label),
            retired=label in retired,
        )
        for label in offered + retired
    ]


def _score(question: Question, numbers: list[int], result: QuestionResult) -> None:
    if not numbers:
        return
    result.average = sum(numbers) / len(numbers)
    if question.type == "nps":
        result.promoters = sum(1 for n in numbers if n >= 9)
        result.detractors = sum(1 for n in numbers if n <= 6)
        result.passives = len(numbers) - result.promoters - result.detractors
        result.nps = round(100 * (result.promoters - result.detractors) / len(numbers))


def survey_results(survey: Survey) -> SurveyResults:
    """Tally every response to ``survey``."""
    tallies: dict[str, Counter[str]] = {q.id: Counter() for q in survey.questions}
    numbers: dict[str, list[int]] = {q.id: [] for q in survey.questions}
    answered: Counter[str] = Counter()
    texts: dict[str, list[str]] = {q.id: [] for q in survey.questions}
    total, versions = 0, set()
    for response in responses_for(survey.slug):
        total += 1
        versions.add(response.version)
        for question in survey.questions:
            value = response.answers.get(question.id)
            if value is None or value == []:
                continue
            answered[question.id] += 1
            if question.type == "text":
                texts[question.id].append(str(value))
            elif isinstance(value, list):
                tallies[question.id].update(str(v) for v in value)
            else:
                tallies[question.id][str(value)] += 1
                if isinstance(value, int):
                    numbers[question.id].append(value)
    results = []
    for question in survey.questions:
        result = QuestionResult(question, answered[question.id])
        if question.type == "text":
            result.texts = texts[question.id][-LATEST_TEXTS:][::-1]
        else:
            result.counts = _counts(question, tallies[question.id], answered[question.id])
            _score(question, numbers[question.id], result)
        results.append(result)
    return SurveyResults(survey, total, results, len(versions))


def _cell(value: object) -> str:
    if isinstance(value, list):
        return safe_cell("; ".join(str(v) for v in value))
    return safe_cell(value)


def export_csv(survey: Survey) -> Iterator[str]:
    """The responses as CSV text, one chunk per row: ``response``, ``submitted_at``,
    ``version`` and one column per question id (choices joined with "; "). No member identity
    is exported."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def row(cells: list[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    yield row(["response", "submitted_at", "version", *(q.id for q in survey.questions)])
    for response in responses_for(survey.slug):
        yield row(
            [
                str(response.id),
                response.submitted_at.isoformat(),
                response.version[:12],
                *(_cell(response.answers.get(q.id)) for q in survey.questions),
            ]
        )
