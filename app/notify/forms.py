"""Forms of the notifier. Each validates on the server; errors show next to the fields."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.consent.terms import Channel
from app.notify.campaigns import KINDS, MAX_BODY, MAX_TITLE
from app.notify.conversation import MAX_REPLY
from app.notify.targeting import MAX_LENGTH as MAX_FILTER


class ActionForm(FlaskForm):
    """A button that changes something (CSRF only)."""


class ReplyForm(FlaskForm):
    body = TextAreaField("Your reply", validators=[DataRequired(), Length(max=MAX_REPLY)])


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CampaignForm(FlaskForm):
    title = StringField(
        "Title (the subject of the mail)", validators=[DataRequired(), Length(max=MAX_TITLE)]
    )
    body = TextAreaField("Message (Markdown)", validators=[DataRequired(), Length(max=MAX_BODY)])
    scope = SelectField("Scope", validators=[DataRequired()])
    kind = SelectField("Kind", choices=[SelectChoice(k, k.capitalize()) for k in KINDS])
    channels = CheckboxesField(
        "Channels",
        choices=[
            SelectChoice(Channel.INBOX, "Inbox"),
            SelectChoice(Channel.EMAIL, "Email"),
            SelectChoice(Channel.WEBHOOK, "Webhook"),
            SelectChoice(Channel.TELEGRAM, "Telegram"),
            SelectChoice(Channel.SMS, "Text message (SMS)"),
            SelectChoice(Channel.PUSH, "Browser notification"),
        ],
    )
    audience_filter = TextAreaField(
        "Who is it for? (optional)",
        validators=[Optional(), Length(max=MAX_FILTER)],
        render_kw={"class": "filter-input", "rows": 3, "spellcheck": "false"},
    )
    send_at = DateTimeLocalField(
        "Send at (your time, for scheduling)", validators=[Optional()], format="%Y-%m-%dT%H:%M"
    )
    save = SubmitField("Save draft")


class AnswerForm(FlaskForm):
    body = TextAreaField("Answer", validators=[DataRequired(), Length(max=MAX_REPLY)])
