"""Forms of the accounts area. Each validates on the server; errors show next to the fields."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from app.accounts.passwords import MAX_LENGTH, MIN_LENGTH

EMAIL = [
    DataRequired("Enter your email address."),
    Length(max=254),
    Email("Enter an email address such as name@example.com."),
]
NEW_PASSWORD = [
    DataRequired("Choose a password."),
    Length(
        min=MIN_LENGTH,
        max=MAX_LENGTH,
        message=f"Use {MIN_LENGTH} to {MAX_LENGTH} characters. A few words make a good one.",
    ),
]


class SignUpForm(FlaskForm):
    email = EmailField("Email", validators=EMAIL)
    password = PasswordField("Password", validators=NEW_PASSWORD)
    display_name = StringField("Name (optional)", validators=[Length(max=80)])
    next = HiddenField()


class SignInForm(FlaskForm):
    email = EmailField("Email", validators=EMAIL)
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=MAX_LENGTH)]
    )
    remember = BooleanField("Keep me signed in on this device")
    next = HiddenField()


class EmailOnlyForm(FlaskForm):
    """Password reset, sign-in link and resend-verification requests."""

    email = EmailField("Email", validators=EMAIL)
    next = HiddenField()


class ConfirmForm(FlaskForm):
    """A button that turns a link in a mail into a POST, so mail scanners use up nothing."""


class NewPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=NEW_PASSWORD)


class ProfileForm(FlaskForm):
    display_name = StringField("Display name", validators=[Length(max=80)])
    time_zone = SelectField("Time zone", validate_choice=False)

    def validate_time_zone(self, field: SelectField) -> None:
        if field.data not in available_timezones():
            raise ValidationError("Choose a time zone from the list.")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[Length(max=MAX_LENGTH)])
    new_password = PasswordField("New password", validators=NEW_PASSWORD)


class ChangeEmailForm(FlaskForm):
    new_email = EmailField("New email", validators=EMAIL)
    password = PasswordField("Your password", validators=[Length(max=MAX_LENGTH)])
