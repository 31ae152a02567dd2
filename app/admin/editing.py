"""What the web editor's pages share: the content check of a text not saved yet (as messages at
their lines), its front matter as plain values for the fields beside the text, the calls to
action an editor may choose, and the autosaved draft to offer back.

Posts and pages are checked by the site's own checker (:func:`app.site.problems.check_text`),
surveys by the survey loader plus the answers rule (:mod:`app.engage.survey_edits`): the same
checks ``flask content check`` runs, never a second copy of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app, request
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.consent.scopes import all_scopes
from app.engage import responses
from app.engage.survey_edits import check_survey_text
from app.site import drafts, problems
from app.site.frontmatter import SourceError, parse_source

MAX_TEXT = 900_000


@dataclass(frozen=True)
class LineMessage:
    """A problem of the text at its line; a warning does not stop a save."""

    line: int
    message: str
    warning: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "message": self.message, "warning": self.warning}


def content_dir() -> Path:
    return Path(current_app.config["CONTENT_DIR"])


def check(kind: str, path: Path, text: str) -> list[LineMessage]:
    """Every problem of ``text`` as the file ``path`` of ``kind`` (post, page or survey)."""
    if kind == "survey":
        return [LineMessage(p.line, p.message) for p in check_survey_text(path, text)]
    return [
        LineMessage(p.line, p.message, p.warning) for p in problems.check_text(path, kind, text)
    ]


def errors(found: list[LineMessage]) -> list[LineMessage]:
    return [p for p in found if not p.warning]


def front_matter(text: str) -> dict[str, Any] | None:
    """The front matter of ``text`` as JSON values (dates as text), or None when it cannot be
    read: the fields beside the text then keep what they show."""
    try:
        source = parse_source(Path("editor.md"), text.encode("utf-8"))
    except SourceError:
        return None
    data = json.loads(json.dumps(source.meta, default=str))
    return data if isinstance(data, dict) else None


def cta_choices() -> list[str]:
    """Every call to action that names something real: each scope, then each survey."""
    scopes = [f"scope:{slug}" for slug in all_scopes()]
    surveys = [f"survey:{slug}" for slug in sorted(responses.shelf().surveys)]
    return scopes + surveys


def draft_to_offer(member_id: int, key: str, text: str) -> drafts.KeptDraft | None:
    """The member's autosaved draft of ``key`` when it holds text the file does not."""
    kept = drafts.draft_of(member_id, key)
    if kept is None or kept.text.replace("\r\n", "\n") == text.replace("\r\n", "\n"):
        return None
    return kept


def wants_json() -> bool:
    """Whether the request came from the editor's script (which asks for JSON)."""
    return request.accept_mimetypes.best == "application/json"


class NewSurveyForm(FlaskForm):
    survey_title = StringField(
        "Survey title", validators=[DataRequired("Give it a title."), Length(max=120)]
    )


@dataclass(frozen=True)
class SurveyRow:
    """One survey file in the editor's list."""

    slug: str
    title: str
    responses: int
    problem: str | None = None


def survey_rows() -> list[SurveyRow]:
    """Every survey file, including the ones the site cannot use, by file name."""
    folder = content_dir() / "surveys"
    shelf = responses.shelf()
    counts = responses.response_counts()
    problems = {p.path.name: p for p in shelf.problems}
    rows = []
    for path in sorted(folder.glob("*.md")) if folder.is_dir() else []:
        survey = shelf.surveys.get(path.stem)
        problem = problems.get(path.name)
        rows.append(
            SurveyRow(
                path.stem,
                survey.title if survey else path.name,
                counts.get(path.stem, 0),
                f"line {problem.line}: {problem.message}" if problem else None,
            )
        )
    return rows
