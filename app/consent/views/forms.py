"""Forms of the consent area. Each validates on the server; errors show next to the fields."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from app.consent.ledger.preferences import MAX_PAUSE_DAYS
from app.outbound.client import MAX_URL_LENGTH
from app.signing import MAX_TOKEN_LENGTH


class ToggleForm(FlaskForm):
    """Say yes to (or stop) one scope on one channel. ``token`` is signed for the member, the
    scope, the channel, the action and the state the page showed; ``agree`` must be ticked to
    say yes (it is never ticked in advance)."""

    token = HiddenField(validators=[DataRequired(), Length(max=MAX_TOKEN_LENGTH)])
    wording_hash = HiddenField(validators=[Length(max=64)])
    agree = BooleanField()
    next = HiddenField(validators=[Length(max=500)])
    origin = HiddenField(validators=[Length(max=20)])


class ChoicesForm(FlaskForm):
    """One control per scope: a switch per channel (``channel``, one value per switch that is
    on, read from the request) and one save. ``token`` is signed for the member, the scope, the
    channels shown as switches, the state the page showed and its words."""

    token = HiddenField(validators=[DataRequired(), Length(max=MAX_TOKEN_LENGTH)])
    next = HiddenField(validators=[Length(max=500)])
    origin = HiddenField(validators=[Length(max=20)])


class ButtonForm(FlaskForm):
    """A form that is only a button (resume, unpause, verify, remove): its CSRF token is all
    it carries."""


class PauseForm(FlaskForm):
    days = IntegerField(
        "Pause everything for",
        validators=[
            InputRequired("Enter a number of days."),
            NumberRange(1, MAX_PAUSE_DAYS, f"Choose between 1 and {MAX_PAUSE_DAYS} days."),
        ],
    )


class QuietHoursForm(FlaskForm):
    start = TimeField("From", validators=[Optional()])
    end = TimeField("Until", validators=[Optional()])
    time_zone = SelectField("Time zone", validate_choice=False)

    def validate_time_zone(self, field: SelectField) -> None:
        if field.data not in available_timezones():
            raise ValidationError("Choose a time zone from the list.")


class WebhookForm(FlaskForm):
    url = StringField(
        "Endpoint address (https)",
        validators=[
            DataRequired("Enter the address of your endpoint."),
            Length(max=MAX_URL_LENGTH, message=f"Use at most {MAX_URL_LENGTH} characters."),
        ],
    )


class SubscribeForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[
            DataRequired("Enter your email address."),
            Length(max=254),
            Email("Enter an email address such as name@example.com."),
        ],
    )
    agree = BooleanField(validators=[DataRequired("Tick the box to say yes.")])
    wording_hash = HiddenField(validators=[Length(max=64)])
    origin = HiddenField(validators=[Length(max=120)])


class MemberSubscribeForm(FlaskForm):
    """A signed-in member with a confirmed address subscribes directly."""

    agree = BooleanField(validators=[DataRequired("Tick the box to say yes.")])
    wording_hash = HiddenField(validators=[Length(max=64)])
    origin = HiddenField(validators=[Length(max=120)])


class ConfirmSubscriptionForm(FlaskForm):
    wording_hash = HiddenField(validators=[Length(max=64)])


class StopForm(FlaskForm):
    """The one-click stop on the "why did I get this?" page."""


class DeleteAccountForm(FlaskForm):
    password = PasswordField("Your password", validators=[Length(max=128)])
    understood = BooleanField(
        "I understand that my account, rewards and settings are deleted for good.",
        validators=[DataRequired("Tick the box to confirm.")],
    )


class PhoneForm(FlaskForm):
    """A mobile number to prove: a code goes to it by text."""

    number = StringField(
        "Mobile number",
        validators=[DataRequired("Type your mobile number."), Length(max=32)],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )


class PhoneCodeForm(FlaskForm):
    """The six-digit code that came by text."""

    code = StringField(
        "Code from the text",
        validators=[DataRequired("Type the code from the text."), Length(max=12)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
