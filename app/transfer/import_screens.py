"""*Admin → Import members*: upload a file, see its format, mapping and dry run, then import.

Only administrators may use it: an import creates members and records consent. The steps:
upload (the file is kept with its run in ``import_uploads``, so any web process can go on with
it) → the run's page: the detected format and its column mapping (editable for a plain CSV), the
dry run's counts and every bad row with its line (downloadable as CSV) → *Import N members*,
with *skip the bad rows* when there are any. Files larger than :data:`MAX_UPLOAD_BYTES` or with
more than :data:`MAX_WEB_ROWS` rows are refused here with a pointer to ``flask members import``,
so that no request works longer than a few seconds; the request itself is capped a little above
the file limit, so a larger upload is refused before it is read to the end.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any, BinaryIO

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app import clock
from app.accounts.roles import role_required
from app.consent.scopes import all_scopes
from app.extensions import db
from app.transfer.checking import Plan, Report, dry_run, read_layout
from app.transfer.errors import TransferError
from app.transfer.formats import LABELS, Field, FileEvidence, Format
from app.transfer.import_cli import DEFAULT_OLD_LIST, DEFAULT_RATE
from app.transfer.importing import RunState, apply_import
from app.transfer.models import ImportRun
from app.transfer.rates import Rate, parse_rate
from app.transfer.report import ENCODINGS, summary, write_report
from app.transfer.uploads import discard, keep_upload, upload_of
from app.web.nav import AdminSection, register_admin_section

MAX_UPLOAD_BYTES = 5_000_000
MAX_WEB_ROWS = 10_000
FORM_ROOM = 64_000  # the form's other fields around the file
SHOWN_BAD_ROWS = 500
TOO_BIG = (
    "This file is larger than the admin screen takes ({limit}). Import it on the server with "
    "`flask members import FILE --scope … --apply` (it streams files of any size)."
)


class UploadForm(FlaskForm):
    file = FileField("Member export (CSV)", validators=[FileRequired("Choose a file.")])
    file_format = SelectField(
        "Format",
        choices=[
            SelectChoice("auto", "Detect from the header"),
            *(SelectChoice(f.value, LABELS[f]) for f in Format),
        ],
        default="auto",
    )
    scope = SelectField("Scope the evidence of consent is for", validators=[DataRequired()])
    channel = SelectField("Channel", choices=[SelectChoice("email", "email")], default="email")
    evidence_wording = TextAreaField(
        "Wording they agreed to (optional)", validators=[Optional(), Length(max=5000)]
    )
    evidence_where = StringField(
        "Where they agreed (optional)", validators=[Optional(), Length(max=300)]
    )
    old_list = StringField(
        "Name of the old list",
        default=DEFAULT_OLD_LIST,
        validators=[DataRequired("Name the old list."), Length(max=120)],
    )
    rate = StringField(
        "Invitations go out at", default=DEFAULT_RATE, validators=[DataRequired("Give a rate.")]
    )
    submit = SubmitField("Upload and check")


class ApplyForm(FlaskForm):
    skip_bad_rows = BooleanField("Skip the bad rows and import the others")
    submit = SubmitField("Import")


class DiscardForm(FlaskForm):
    submit = SubmitField("Discard this upload")


def _mapping_form(header: list[str], current: dict[str, str]) -> FlaskForm:
    """A form with one select per field, offering the file's columns."""

    class MappingForm(FlaskForm):
        submit = SubmitField("Use these columns and check again")

    choices = [SelectChoice("", "(none)")] + [
        SelectChoice(h, h.strip() or "(blank)") for h in header
    ]
    for target in Field:
        setattr(
            MappingForm,
            target.value,
            SelectField(target.value, choices=choices, default=current.get(target.value, "")),
        )
    return MappingForm()


def _scope_choices() -> list[SelectChoice]:
    return [
        SelectChoice(slug, s.title) for slug, s in all_scopes().items() if "email" in s.channels
    ]


def _opener(content: bytes) -> Callable[[], BinaryIO]:
    return lambda: io.BytesIO(content)


def _plan(run: ImportRun) -> Plan:
    mapping = {Field(k): v for k, v in json.loads(run.mapping or "{}").items()}
    return Plan(
        file_name=run.file_name,
        scope=run.scope,
        channel=run.channel,
        rate=Rate(run.rate_count, run.rate_seconds),
        old_list=run.old_list,
        format=Format(run.format),
        mapping=mapping,
        evidence=FileEvidence(run.evidence_wording, run.evidence_where),
    )


def _run_or_404(run_id: int) -> ImportRun:
    run = db.session.get(ImportRun, run_id)
    if run is None:
        abort(404)
    return run


def _count_lines(content: bytes) -> int:
    return content.count(b"\n") + (0 if content.endswith(b"\n") else 1)


@role_required("admin")
def import_start() -> str | BaseResponse | tuple[str, int]:
    form = UploadForm()
    form.scope.choices = _scope_choices()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() and form.csrf_token.errors else 200
        return render_template("transfer/import_start.html", form=form, **_limits()), status
    upload = form.file.data
    content = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES or _count_lines(content) > MAX_WEB_ROWS + 1:
        form.file.errors = [TOO_BIG.format(limit=_limits()["limit_text"])]
        return render_template("transfer/import_start.html", form=form, **_limits()), 200
    name = (upload.filename or "upload.csv").replace("\\", "/").rsplit("/", 1)[-1][:255]
    now = clock.now()
    try:
        plan = Plan(
            file_name=name,
            scope=form.scope.data or "",
            channel=form.channel.data or "email",
            rate=parse_rate(form.rate.data or ""),
            old_list=(form.old_list.data or "").strip(),
            format=None if form.file_format.data == "auto" else Format(form.file_format.data),
            evidence=FileEvidence(
                (form.evidence_wording.data or "").strip() or None,
                (form.evidence_where.data or "").strip() or None,
            ),
        )
        report = dry_run(plan, _opener(content), now)
    except TransferError as exc:
        db.session.rollback()
        form.form_errors.append(f"{name}: {exc}")
        return render_template("transfer/import_start.html", form=form, **_limits()), 200
    plan = Plan(**{**plan.__dict__, "format": report.format})
    run = keep_upload(
        plan, report, content, by=current_user.email, by_member_id=current_user.id, now=now
    )
    db.session.commit()
    return redirect(url_for(".import_run", run_id=run.id))


def _limits() -> dict[str, object]:
    return {
        "limit_text": f"{MAX_UPLOAD_BYTES // 1_000_000} MB or {MAX_WEB_ROWS:,} rows",
        "max_rows": MAX_WEB_ROWS,
    }


def _checked(run: ImportRun) -> tuple[Report | None, list[str], str | None]:
    """The dry run of the run's file now, its header, and the problem if it cannot be read."""
    content = upload_of(run)
    if content is None:
        return None, [], None
    plan = _plan(run)
    try:
        _, layout = read_layout(plan, _opener(content))
        return dry_run(plan, _opener(content), clock.now()), layout.header, None
    except TransferError as exc:
        return None, [], f"{run.file_name}: {exc}"


@role_required("admin")
def import_run(run_id: int) -> str:
    run = _run_or_404(run_id)
    report, header, problem = _checked(run) if run.state == RunState.CHECKED else (None, [], None)
    mapping_form = None
    if run.state == RunState.CHECKED and run.format == Format.CSV and header:
        current = report.mapping if report is not None else {}
        mapping_form = _mapping_form(header, current)
    return render_template(
        "transfer/import_run.html",
        run=run,
        report=report,
        problem=problem,
        summary=summary(report) if report is not None else [],
        encoding=ENCODINGS[report.encoding] if report is not None else "",
        label=LABELS[Format(run.format)],
        shown_bad=report.bad[:SHOWN_BAD_ROWS] if report is not None else [],
        mapping_form=mapping_form,
        apply_form=ApplyForm(),
        discard_form=DiscardForm(),
        rate=str(Rate(run.rate_count, run.rate_seconds)),
    )


@role_required("admin")
def import_report(run_id: int) -> Response:
    run = _run_or_404(run_id)
    report = _checked(run)[0]
    if report is None:
        abort(404)
    out = io.StringIO()
    write_report(report, csv.writer(out))
    stem = run.file_name.rsplit(".", 1)[0] or "import"
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)[:80]
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{safe}-problems.csv"',
            "Cache-Control": "no-store",
        },
    )


@role_required("admin")
def import_mapping(run_id: int) -> BaseResponse:
    run = _run_or_404(run_id)
    content = upload_of(run)
    if run.state != RunState.CHECKED or content is None or run.format != Format.CSV:
        abort(404)
    try:
        _, layout = read_layout(_plan(run), _opener(content))
    except TransferError:
        layout = None
    header = layout.header if layout is not None else []
    form = _mapping_form(header, {})
    if not form.validate_on_submit():
        abort(400)
    chosen = {t.value: getattr(form, t.value).data for t in Field if getattr(form, t.value).data}
    run.mapping = json.dumps(chosen)
    db.session.commit()
    return redirect(url_for(".import_run", run_id=run.id))


@role_required("admin")
def import_apply(run_id: int) -> BaseResponse:
    run = _run_or_404(run_id)
    content = upload_of(run)
    form = ApplyForm()
    if not form.validate_on_submit():
        abort(400)
    if run.state != RunState.CHECKED or content is None:
        flash("This import was already done or discarded.", "error")
        return redirect(url_for(".import_run", run_id=run.id))
    try:
        apply_import(
            _plan(run),
            _opener(content),
            clock.now(),
            by=current_user.email,
            by_member_id=current_user.id,
            skip_bad_rows=bool(form.skip_bad_rows.data),
            run=run,
        )
    except TransferError as exc:
        db.session.rollback()
        flash(f"Nothing was imported: {exc}", "error")
        return redirect(url_for(".import_run", run_id=run_id))
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    flash(
        f"Imported {run.imported:,} members. Their invitations go out from the worker.", "success"
    )
    return redirect(url_for(".import_run", run_id=run.id))


@role_required("admin")
def import_discard(run_id: int) -> BaseResponse:
    run = _run_or_404(run_id)
    if not DiscardForm().validate_on_submit():
        abort(400)
    if discard(run):
        db.session.commit()
    return redirect(url_for(".import_start"))


def _cap_request(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Cap this blueprint's request bodies. A URL value preprocessor, because those run before
    any ``before_request`` function, and the app's CSRF check reads the form in one of those."""
    request.max_content_length = MAX_UPLOAD_BYTES + FORM_ROOM


def _too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
    form = UploadForm(formdata=None)
    form.scope.choices = _scope_choices()
    form.file.errors = [TOO_BIG.format(limit=_limits()["limit_text"])]
    return render_template("transfer/import_start.html", form=form, **_limits()), 413


def blueprint() -> Blueprint:
    bp = Blueprint("transfer_import", __name__, url_prefix="/admin/import")
    bp.url_value_preprocessor(_cap_request)
    bp.register_error_handler(RequestEntityTooLarge, _too_large)
    bp.add_url_rule("", view_func=import_start, methods=["GET", "POST"])
    bp.add_url_rule("/<id:run_id>", view_func=import_run, methods=["GET"])
    bp.add_url_rule("/<id:run_id>/problems.csv", view_func=import_report, methods=["GET"])
    bp.add_url_rule("/<id:run_id>/mapping", view_func=import_mapping, methods=["POST"])
    bp.add_url_rule("/<id:run_id>/apply", view_func=import_apply, methods=["POST"])
    bp.add_url_rule("/<id:run_id>/discard", view_func=import_discard, methods=["POST"])
    return bp


def register(app: Flask) -> None:
    app.register_blueprint(blueprint())
    register_admin_section(
        app,
        AdminSection(
            "Import members",
            "transfer_import.import_start",
            "admin",
            "Bring members from Ghost, listmonk, Mailchimp or a CSV file: a dry run first, "
            "consent only with evidence, one invitation each.",
            order=78,
        ),
    )
