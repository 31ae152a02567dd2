"""The ``survey`` call to action, and the ``surveys`` content check.

The block is a plain link to the survey: it sits on public pages that must not open a session,
so it carries no form and no CSRF token. It shows nothing for a survey that is not open, or that
the signed-in member already answered.
"""

from __future__ import annotations

from flask import render_template
from flask_login import current_user
from markupsafe import Markup

from app import clock
from app.engage import outcomes, responses
from app.site.checks import ContentProblem


def survey_exists(slug: str) -> bool:
    return slug in responses.shelf().surveys


def render_survey_cta(slug: str, placement: str) -> Markup | None:
    survey = responses.shelf().surveys.get(slug)
    if survey is None or survey.state(clock.now()) != "open":
        return None
    member_id = current_user.id if current_user.is_authenticated else None
    if member_id is not None and responses.response_of(member_id, slug) is not None:
        return None
    html = render_template(
        "engage/cta_survey.html",
        survey=survey,
        placement=placement,
        rewards=outcomes.unlocked_by(survey.action, member_id),
    )
    return Markup(html)  # noqa: S704 - rendered by an autoescaping template


def check_surveys() -> list[ContentProblem]:
    """Every problem of every survey file, as ``path:line: message``."""
    return sorted(ContentProblem(p.path, p.line, p.message) for p in responses.shelf().problems)
