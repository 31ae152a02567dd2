"""Admin → API keys (administrators only): the list of keys, making one (its key is shown once,
on the page that answers the form, and never again), and revoking one after a confirmation."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import IntegerField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange
from wtforms.widgets import CheckboxInput, ListWidget

from app import clock
from app.accounts.roles import role_required
from app.api import keys
from app.api.errors import ApiKeyError
from app.extensions import db
from app.web.errors import render_error
from app.web.nav import AdminSection, register_admin_section


class PermissionsField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class KeyForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[DataRequired("Name the key."), Length(max=keys.MAX_NAME)],
    )
    permissions = PermissionsField(
        "Permissions",
        choices=[SelectChoice(str(p), f"{p}: {keys.PERMISSION_HELP[p]}") for p in keys.Permission],
        validators=[DataRequired("Give the key at least one permission.")],
    )
    rate_limit = IntegerField(
        "Requests per minute",
        default=keys.DEFAULT_RATE_LIMIT,
        validators=[
            InputRequired("Say how many requests a minute the key may make."),
            NumberRange(1, keys.MAX_RATE_LIMIT),
        ],
    )


class RevokeForm(FlaskForm):
    """The confirmation's button (CSRF only)."""


def _list(form: KeyForm, status: int = 200) -> tuple[str, int]:
    return render_template("api/keys.html", keys=keys.all_keys(), form=form), status


@role_required("admin")
def key_list() -> str | tuple[str, int] | Response:
    form = KeyForm()
    if request.method == "GET":
        return _list(form)
    if not form.validate_on_submit():
        return _list(form, 400 if form.csrf_token.errors else 200)
    try:
        made = keys.create_key(
            form.name.data or "",
            form.permissions.data or [],
            form.rate_limit.data or 0,
            created_by=current_user.id,
            now=clock.now(),
        )
    except ApiKeyError as exc:
        db.session.rollback()
        form.form_errors.append(str(exc))
        return _list(form)
    db.session.commit()
    response = Response(render_template("api/key_made.html", key=made.key, secret=made.secret))
    response.headers["Cache-Control"] = "no-store"
    return response


@role_required("admin")
def key_revoke(key_id: int) -> str | tuple[str, int] | BaseResponse:
    key = keys.get_key(key_id)
    if key is None:
        return render_error(404)
    form = RevokeForm()
    if request.method == "GET":
        return render_template("api/key_revoke.html", key=key, form=form)
    if not form.validate_on_submit():
        return render_error(400)
    if keys.revoke_key(key, clock.now()):
        db.session.commit()
        flash(f"Revoked the key “{key.name}” ({key.prefix}): it now gets 401 answers.", "success")
    else:
        flash(f"The key “{key.name}” was already revoked.", "success")
    return redirect(url_for("api_keys.key_list"))


def blueprint() -> Blueprint:
    bp = Blueprint("api_keys", __name__, url_prefix="/admin/api-keys")
    bp.add_url_rule("/", view_func=key_list, methods=["GET", "POST"])
    bp.add_url_rule("/<id:key_id>/revoke", view_func=key_revoke, methods=["GET", "POST"])
    return bp


def register(app: Flask) -> None:
    app.register_blueprint(blueprint())
    register_admin_section(
        app,
        AdminSection(
            "API keys",
            "api_keys.key_list",
            "admin",
            "Keys for tills and CRMs: what each may do, its rate limit, its last use; revoke one.",
            order=70,
        ),
    )
