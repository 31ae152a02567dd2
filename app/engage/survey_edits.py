"""Editing a survey file in the web editor: the starter text of a new survey, and the check a
changed text must pass before it is written.

The check is the survey loader's own (:func:`~app.engage.surveys.survey_from_source`) plus one
rule that only matters once people have answered: a change may reword a question or an option,
but it may not remove a question id or an option that stored answers use, because those answers
would no longer belong to anything (results count them under a question that is gone). Such a
change is refused at the line of the question (or of its options) with the number of answers.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from app.engage.responses import responses_for
from app.engage.surveys import Survey, survey_from_source
from app.site.frontmatter import SourceError, parse_source


def starter_survey(title: str) -> str:
    """The text of a new survey: a title, one optional question and an introduction."""
    quoted = '"' + " ".join(title.split()).replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "\n".join(
        [
            "---",
            f"title: {quoted}",
            'description: ""',
            "questions:",
            "  - id: first",
            "    type: text",
            '    label: "What should we ask here?"',
            "    max_length: 500",
            "---",
            "",
            "Say why you ask and what you will do with the answers.",
            "",
        ]
    )


def answered(slug: str) -> tuple[Counter[str], dict[str, Counter[str]]]:
    """How many responses answered each question id of ``slug``, and how many gave each value
    (an option, for a choice question) to each question."""
    questions: Counter[str] = Counter()
    options: dict[str, Counter[str]] = {}
    for response in responses_for(slug):
        for question_id, answer in (response.answers or {}).items():
            if answer is None or answer == "" or answer == []:
                continue
            questions[question_id] += 1
            chosen = answer if isinstance(answer, list) else [answer]
            options.setdefault(question_id, Counter()).update(str(a) for a in chosen)
    return questions, options


def _answers(count: int) -> str:
    return "1 answer" if count == 1 else f"{count} answers"


def orphaned_answers(slug: str, survey: Survey, path: Path, text: str) -> list[SourceError]:
    """The problems of a change that would leave stored answers of ``slug`` with no question
    or option: one per removed question id, and one per removed option that was chosen."""
    questions, options = answered(slug)
    if not questions:
        return []
    source = parse_source(path, text.encode("utf-8"))
    kept = {q.id: (index, q) for index, q in enumerate(survey.questions)}
    found: list[SourceError] = []
    for question_id, count in sorted(questions.items()):
        if question_id not in kept:
            found.append(
                SourceError(
                    path,
                    source.line("questions"),
                    f"question {question_id!r} has {_answers(count)}: keep its id (you may "
                    "reword it), or start a new survey",
                )
            )
            continue
        index, question = kept[question_id]
        if question.type not in ("single", "multi"):
            continue
        for option, chosen in sorted(options.get(question_id, Counter()).items()):
            if option not in question.options:
                found.append(
                    SourceError(
                        path,
                        source.line("questions", index, "options"),
                        f"option {option!r} of question {question_id!r} was chosen in "
                        f"{_answers(chosen)}: keep it, or start a new survey",
                    )
                )
    return found


def check_survey_text(path: Path, text: str) -> list[SourceError]:
    """Every problem of ``text`` as the survey file ``path``, sorted by line: the loader's own
    and, for a survey people answered, the answers a change would orphan. Nothing is written."""
    try:
        source = parse_source(path, text.encode("utf-8"))
    except SourceError as exc:
        return [exc]
    survey, problems = survey_from_source(source)
    if survey is not None:
        problems = orphaned_answers(survey.slug, survey, path, text)
    return sorted(problems, key=lambda p: (p.line, p.message))
