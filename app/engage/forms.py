"""Forms of the engage area. A survey's questions are checked by :mod:`app.engage.responses`
(its fields come from the survey file); the form object brings the CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.engage.codes import EXAMPLE, MAX_INPUT


class SurveyForm(FlaskForm):
    """The CSRF token of a survey form; the answers are named ``q.<question id>``."""


class RedeemForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[
            DataRequired(f"Enter the code from your receipt, like {EXAMPLE}."),
            Length(
                max=MAX_INPUT, message=f"That is too long for a code. Codes look like {EXAMPLE}."
            ),
        ],
    )
