"""Surveys, code redemption and referral links: parse the request, call the domain, render.

Visitors may fill in a survey or type a code before they have an account: what they typed is
kept in the session under ``carry.`` keys, which survive the renewal of the session at sign-in,
so they come back to a form that is already filled in and send it as a member.
"""

from __future__ import annotations

from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app import clock
from app.accounts.browser import ARRIVED_VIA_KEY, CARRY_PREFIX
from app.engage import codes, outcomes, redemption, referrals, responses
from app.engage.actions import has_action
from app.engage.errors import CodeError, InvalidAnswers, SurveyError, SurveyUnknown
from app.engage.forms import RedeemForm, SurveyForm
from app.engage.markup import render_intro
from app.engage.ratelimits import redeem_limits
from app.engage.surveys import Survey
from app.extensions import db
from app.web.errors import render_error

REDEEM_KEY = CARRY_PREFIX + "redeem"


def _carry_key(slug: str) -> str:
    return f"{CARRY_PREFIX}survey.{slug}"


def _survey_or_404(slug: str) -> Survey:
    try:
        return responses.get_survey(slug)
    except SurveyUnknown as exc:
        abort(404, str(exc))


def _submitted(survey: Survey) -> dict[str, list[str]]:
    return {q.id: request.form.getlist(f"q.{q.id}") for q in survey.questions}


# --- surveys -------------------------------------------------------------------------------


def surveys() -> str:
    now = clock.now()
    listed = [s for s in responses.shelf().listed() if s.state(now) != "upcoming"]
    answered = (
        {s.slug for s in listed if responses.response_of(current_user.id, s.slug)}
        if current_user.is_authenticated
        else set()
    )
    return render_template("engage/surveys.html", surveys=listed, answered=answered, now=now)


def _render_survey(
    survey: Survey,
    values: dict[str, list[str]],
    errors: dict[str, str],
    status: int = 200,
    problem: str | None = None,
) -> tuple[str, int]:
    member_id = current_user.id if current_user.is_authenticated else None
    response = responses.response_of(member_id, survey.slug) if member_id else None
    page = render_template(
        "engage/survey.html",
        survey=survey,
        form=SurveyForm(),
        intro=render_intro(survey.intro, current_app.config["RENDER_BUDGET_SECONDS"]),
        values=values,
        errors=errors,
        state=survey.state(clock.now()),
        response=response,
        problem=problem,
        kept=member_id is None and _carry_key(survey.slug) in session,
        rewards=outcomes.unlocked_by(survey.action, member_id),
    )
    return page, status


def survey(slug: str) -> Response | tuple[str, int]:
    survey = _survey_or_404(slug)
    key = _carry_key(slug)
    form = SurveyForm()
    if not form.validate_on_submit():
        return _render_survey(survey, session.get(key) or {}, {})
    submitted, now = _submitted(survey), clock.now()
    try:
        if not current_user.is_authenticated:
            responses.check_open(survey, now)
            values = responses.form_values(responses.clean_answers(survey, submitted))
            if not responses.fits_in_session(values):
                return _render_survey(
                    survey,
                    submitted,
                    {},
                    400,
                    problem=(
                        "Your answers are too long to keep while you sign in. Sign in first, "
                        "then answer."
                    ),
                )
            session[key] = values
            return redirect(url_for(".survey", slug=slug, _anchor="keep"))
        responses.submit_response(current_user.id, survey, submitted, now)
    except InvalidAnswers as exc:
        db.session.rollback()
        return _render_survey(survey, submitted, exc.errors, 400, problem=str(exc))
    except SurveyError as exc:
        db.session.rollback()
        return _render_survey(survey, submitted, {}, 400, problem=str(exc))
    db.session.commit()
    session.pop(key, None)
    return redirect(url_for(".survey_thanks", slug=slug))


@login_required
def survey_thanks(slug: str) -> Response | str:
    survey = _survey_or_404(slug)
    response = responses.response_of(current_user.id, slug)
    if response is None:
        return redirect(url_for(".survey", slug=slug))
    return _earned_page(
        survey.action, "Thank you for your answers", f"Your answers to “{survey.title}” are in."
    )


def _render_correction(
    survey: Survey, values: dict[str, list[str]], errors: dict[str, str], status: int = 200
) -> tuple[str, int]:
    page = render_template(
        "engage/correct.html",
        survey=survey,
        form=SurveyForm(),
        values=values,
        errors=errors,
        response=responses.response_of(current_user.id, survey.slug),
    )
    return page, status


@login_required
def correct_answers(slug: str) -> Response | tuple[str, int]:
    """The member's own answers to a survey they answered, in its form, to correct (open or
    closed); 404 for a survey they never answered."""
    survey = _survey_or_404(slug)
    response = responses.response_of(current_user.id, slug)
    if response is None:
        abort(404, "You have not answered this survey, so there is nothing to correct.")
    form = SurveyForm()
    if request.method == "GET":
        return _render_correction(survey, responses.form_values(response.answers), {})
    if not form.validate_on_submit():
        return render_error(400)
    submitted = _submitted(survey)
    try:
        responses.correct_response(current_user.id, survey, submitted, clock.now())
    except InvalidAnswers as exc:
        db.session.rollback()
        return _render_correction(survey, submitted, exc.errors, 400)
    db.session.commit()
    flash(f"Your answers to “{survey.title}” are corrected.", "success")
    return redirect(outcomes.rewards_page_url() or url_for(".correct_answers", slug=slug))


def _earned_page(action: str, heading: str, lede: str) -> str:
    """What ``action`` earned the signed-in member; what it unlocks when that was theirs
    already."""
    return render_template(
        "engage/earned.html",
        heading=heading,
        lede=lede,
        earned=outcomes.earned_by(current_user.id, action),
        unlocks=outcomes.unlocked_by(action, current_user.id),
        rewards_url=outcomes.rewards_page_url(),
    )


# --- in-store codes --------------------------------------------------------------------------


@redeem_limits
def redeem_code() -> Response | tuple[str, int]:
    form = RedeemForm(
        code=request.args.get("code", "")[: codes.MAX_INPUT] or session.get(REDEEM_KEY, "")
    )
    status = 200
    if form.validate_on_submit():
        try:
            if not current_user.is_authenticated:
                symbols = codes.normalise(form.code.data)
                session[REDEEM_KEY] = codes.format_code(symbols)
                return redirect(url_for(".redeem_code", _anchor="keep"))
            redeemed = redemption.redeem(current_user.id, form.code.data, clock.now())
        except CodeError as exc:
            db.session.rollback()
            form.code.errors.append(str(exc))
            status = 400
        else:
            db.session.commit()
            session.pop(REDEEM_KEY, None)
            return redirect(url_for(".code_redeemed", batch=redeemed.batch))
    elif request.method == "POST":
        status = 400
    kept = not current_user.is_authenticated and REDEEM_KEY in session
    return render_template("engage/redeem.html", form=form, kept=kept), status


@login_required
def code_redeemed(batch: str) -> Response | str:
    action = f"code:{batch}"
    if not redemption.BATCH_NAME.match(batch) or not has_action(current_user.id, action):
        return redirect(url_for(".redeem_code"))
    return _earned_page(action, "Your code is redeemed", "Thank you for shopping with us.")


# --- referral links --------------------------------------------------------------------------


def referral_landing(code: str) -> tuple[str, int]:
    referrer_id = referrals.referrer_of(code)
    if referrer_id is None:
        abort(404, "This invitation link does not work (any more). You can still join.")
    context: dict[str, Any] = {"rewards": outcomes.unlocked_by("referral")}
    if current_user.is_authenticated:
        context["own"] = current_user.id == referrer_id
    else:
        session[ARRIVED_VIA_KEY] = referrals.arrival_mark(code)
    return render_template("engage/referral.html", **context), 200
