"""Marketers' survey screens: every survey with its response count, one survey's results with
server-drawn charts, and the CSV export of its responses."""

from __future__ import annotations

from flask import Flask, Response, abort, render_template, stream_with_context

from app import clock
from app.accounts.roles import role_required
from app.engage import responses
from app.engage.charts import bar_chart
from app.engage.errors import SurveyUnknown
from app.engage.results import export_csv, survey_results
from app.engage.surveys import Survey
from app.web.nav import AdminSection, register_admin_section


def _survey_or_404(slug: str) -> Survey:
    try:
        return responses.get_survey(slug)
    except SurveyUnknown as exc:
        abort(404, str(exc))


@role_required("marketer")
def surveys() -> str:
    return render_template(
        "admin/surveys.html",
        surveys=responses.shelf().listed(),
        counts=responses.response_counts(),
        now=clock.now(),
    )


@role_required("marketer")
def survey_results_page(slug: str) -> str:
    results = survey_results(_survey_or_404(slug))
    charts = {
        r.question.id: bar_chart(r.question.label, r.counts) for r in results.questions if r.counts
    }
    return render_template(
        "admin/survey_results.html",
        results=results,
        charts=charts,
        state=results.survey.state(clock.now()),
    )


@role_required("marketer")
def survey_export(slug: str) -> Response:
    survey = _survey_or_404(slug)
    filename = f"survey-{survey.slug}-{clock.now():%Y-%m-%d}.csv"
    return Response(
        stream_with_context(export_csv(survey)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def register(app: Flask) -> None:
    register_admin_section(
        app,
        AdminSection(
            "Surveys",
            "admin.surveys",
            "marketer",
            "Responses to each survey, with charts, the NPS score and a CSV export.",
            order=30,
        ),
    )
