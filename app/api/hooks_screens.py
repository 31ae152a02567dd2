"""Admins' screens for the event webhooks (Admin → Event webhooks): the endpoints, adding one,
and per endpoint its secret, its events, disabling, deleting, a test event and the delivery log
with a replay for each delivery. Every change is a POST with a CSRF token; only admins get in.

An address is checked as members' webhook addresses are (a public https address; a loopback
address only with the test setting ``WEBHOOK_ALLOW_LOOPBACK``), and a refused one is a form
error saying why.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, Field, RadioField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app import clock
from app.accounts.roles import role_required
from app.api import hooks
from app.api.hook_models import EventEndpoint
from app.api.hooks_delivery import send_test
from app.api.hooks_errors import HookError, NotReplayable
from app.api.hooks_terms import EVENT_WORDS, EVENTS, EventType, HookState
from app.extensions import db
from app.outbound.client import MAX_URL_LENGTH
from app.outbound.errors import UnsafeWebhookURL
from app.web.nav import AdminSection, register_admin_section

EVERY, SOME = "all", "some"


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class EventsForm(FlaskForm):
    """What an endpoint is for and which events it gets."""

    description = StringField(
        "What it is for (optional)",
        validators=[Optional(), Length(max=hooks.MAX_DESCRIPTION)],
    )
    every = RadioField(
        "Events",
        choices=[
            SelectChoice(EVERY, "Every event, and those added later"),
            SelectChoice(SOME, "Only the events ticked"),
        ],
        default=EVERY,
    )
    events = CheckboxesField(
        "Events to send",
        choices=[SelectChoice(t.value, f"{t.value}: {EVENT_WORDS[t]}") for t in EVENTS],
    )

    def validate_events(self, field: Field) -> None:
        if self.every.data == SOME and not field.data:
            raise ValidationError("Tick at least one event, or choose every event.")

    def chosen(self) -> list[EventType] | None:
        if self.every.data != SOME:
            return None
        return [EventType(word) for word in self.events.data or []]


class EndpointForm(EventsForm):
    url = StringField(
        "Address",
        validators=[DataRequired("Give the endpoint's address."), Length(max=MAX_URL_LENGTH)],
    )


class ButtonForm(FlaskForm):
    """A button that changes something (CSRF only)."""


class DeleteForm(FlaskForm):
    understood = BooleanField(
        "Delete this endpoint and its delivery log",
        validators=[DataRequired("Tick the box to delete the endpoint.")],
    )


def _allow_loopback() -> bool:
    return bool(current_app.config["WEBHOOK_ALLOW_LOOPBACK"])


def _endpoint(hook_id: int) -> EventEndpoint:
    """The endpoint, or 404."""
    endpoint = hooks.get_endpoint(hook_id)
    if endpoint is None:
        abort(404)
    return endpoint


def _events_form(endpoint: EventEndpoint) -> EventsForm:
    chosen = endpoint.event_types
    return EventsForm(
        formdata=None,
        data={
            "description": endpoint.description,
            "every": EVERY if chosen is None else SOME,
            "events": [t.value for t in chosen or ()],
        },
    )


def _endpoint_page(
    endpoint: EventEndpoint,
    events_form: EventsForm | None = None,
    delete_form: DeleteForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    page = min(max(1, request.args.get("page", 1, type=int) or 1), hooks.MAX_PAGE)
    now = clock.now()
    return (
        render_template(
            "api/hooks/endpoint.html",
            endpoint=endpoint,
            log=hooks.delivery_log(endpoint.id, page),
            events_form=events_form or _events_form(endpoint),
            delete_form=delete_form or DeleteForm(),
            button=ButtonForm(),
            previous_secret=len(hooks.signing_secrets(endpoint, now)) > 1,
            HookState=HookState,
        ),
        status,
    )


# --- views ----------------------------------------------------------------------------------


@role_required("admin")
def endpoints() -> str | Response | tuple[str, int]:
    """Every endpoint, and the form that adds one (POST)."""
    form = EndpointForm()
    if form.validate_on_submit():
        try:
            endpoint = hooks.add_endpoint(
                form.url.data or "",
                form.description.data or "",
                form.chosen(),
                current_user.id,
                clock.now(),
                allow_loopback=_allow_loopback(),
            )
        except (UnsafeWebhookURL, HookError) as exc:
            db.session.rollback()
            form.url.errors = [str(exc)]
        else:
            db.session.commit()
            flash("Endpoint added. Its secret is below: give it to the receiver.", "success")
            return redirect(url_for("hooks.endpoint", hook_id=endpoint.id))
    return (
        render_template(
            "api/hooks/list.html",
            endpoints=hooks.endpoints(),
            counts=hooks.counts_by_state(),
            form=form,
            HookState=HookState,
        ),
        200,
    )


@role_required("admin")
def endpoint(hook_id: int) -> tuple[str, int]:
    """The endpoint's settings, secret and delivery log (``?page=``)."""
    return _endpoint_page(_endpoint(hook_id))


@role_required("admin")
def change(hook_id: int) -> Response | tuple[str, int]:
    found = _endpoint(hook_id)
    form = EventsForm()
    if not form.validate_on_submit():
        return _endpoint_page(found, events_form=form)
    hooks.change_endpoint(found, form.description.data or "", form.chosen())
    db.session.commit()
    flash("Saved. The endpoint gets these events from the next one on.", "success")
    return redirect(url_for("hooks.endpoint", hook_id=found.id))


@role_required("admin")
def rotate(hook_id: int) -> Response:
    found = _endpoint(hook_id)
    if ButtonForm().validate_on_submit():
        hooks.rotate_secret(found, clock.now())
        db.session.commit()
        flash(
            "New secret made. For the next 24 hours every message is signed with both the old "
            "and the new one: give the receiver the new one before then.",
            "success",
        )
    return redirect(url_for("hooks.endpoint", hook_id=found.id))


@role_required("admin")
def disable(hook_id: int) -> Response:
    found = _endpoint(hook_id)
    if ButtonForm().validate_on_submit() and found.active:
        hooks.disable_endpoint(found, f"Disabled by {current_user.email}.", clock.now())
        db.session.commit()
        flash(
            "Disabled. It gets no new events; what waits for it goes when you enable it.", "success"
        )
    return redirect(url_for("hooks.endpoint", hook_id=found.id))


@role_required("admin")
def enable(hook_id: int) -> Response:
    found = _endpoint(hook_id)
    if ButtonForm().validate_on_submit() and not found.active:
        hooks.enable_endpoint(found)
        db.session.commit()
        flash("Enabled. What waited for it goes with the worker's next round.", "success")
    return redirect(url_for("hooks.endpoint", hook_id=found.id))


@role_required("admin")
def delete(hook_id: int) -> Response | tuple[str, int]:
    found = _endpoint(hook_id)
    form = DeleteForm()
    if not form.validate_on_submit():
        return _endpoint_page(found, delete_form=form)
    hooks.delete_endpoint(found)
    db.session.commit()
    flash("Endpoint deleted, with its delivery log.", "success")
    return redirect(url_for("hooks.endpoints"))


@role_required("admin")
def test(hook_id: int) -> Response:
    """Send a test event now and say what the endpoint answered."""
    found = _endpoint(hook_id)
    if ButtonForm().validate_on_submit():
        outcome = send_test(
            found, current_user.email, clock.now(), allow_loopback=_allow_loopback()
        )
        if outcome.ok:
            flash(f"The endpoint accepted the test event (HTTP {outcome.status}).", "success")
        else:
            flash(
                f"The endpoint did not accept the test event. {outcome.error} "
                "It is tried again on the retry schedule.",
                "error",
            )
    return redirect(url_for("hooks.endpoint", hook_id=found.id))


@role_required("admin")
def replay(hook_id: int, hook_delivery_id: int) -> Response:
    """Queue a delivery again, now, with the same body and message id."""
    found = _endpoint(hook_id)
    if ButtonForm().validate_on_submit():
        try:
            hooks.replay(found.id, hook_delivery_id, clock.now())
        except NotReplayable:
            db.session.rollback()
            abort(404)
        db.session.commit()
        if found.active:
            flash("Queued again, with the same message id: the worker sends it shortly.", "success")
        else:
            flash("Queued again; it goes when the endpoint is enabled.", "success")
    return redirect(url_for("hooks.endpoint", hook_id=found.id))


def blueprint() -> Blueprint:
    bp = Blueprint("hooks", __name__, url_prefix="/admin/event-webhooks")
    bp.add_url_rule("/", view_func=endpoints, methods=["GET", "POST"])
    bp.add_url_rule("/<id:hook_id>", view_func=endpoint, methods=["GET"])
    bp.add_url_rule("/<id:hook_id>/events", view_func=change, methods=["POST"])
    bp.add_url_rule("/<id:hook_id>/rotate", view_func=rotate, methods=["POST"])
    bp.add_url_rule("/<id:hook_id>/disable", view_func=disable, methods=["POST"])
    bp.add_url_rule("/<id:hook_id>/enable", view_func=enable, methods=["POST"])
    bp.add_url_rule("/<id:hook_id>/delete", view_func=delete, methods=["POST"])
    bp.add_url_rule("/<id:hook_id>/test", view_func=test, methods=["POST"])
    bp.add_url_rule(
        "/<id:hook_id>/deliveries/<id:hook_delivery_id>/replay",
        view_func=replay,
        methods=["POST"],
    )
    return bp


def register(app: Flask) -> None:
    app.register_blueprint(blueprint())
    register_admin_section(
        app,
        AdminSection(
            "Event webhooks",
            "hooks.endpoints",
            "admin",
            "Tell a CRM or another system what happens, signed: consents, actions, rewards, "
            "deliveries, replies. Delivery log and replay per endpoint.",
            order=60,
        ),
    )
