"""*Admin → Export members*: a page that says what the export holds, and the download itself.

Only administrators may open it: the export is every member's personal data. The download is
asked for with a POST (a CSRF-checked form), answered as an attachment that no cache keeps, and
streamed as it is read. Each download is recorded in the database before the first row is read
(``member_exports``, listed on the page; see :mod:`app.transfer.export_audit`) and written to the
log (``pullfirst.transfer``, at WARNING, so that it is kept at any ``LOG_LEVEL`` but ``ERROR``)
with who asked and when; the end of the stream is logged with the counts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from flask import Blueprint, Flask, Response, render_template, stream_with_context
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, SubmitField
from wtforms.fields.choices import SelectChoice

from app import clock
from app.accounts.roles import role_required
from app.transfer.export import PARTS, MemberExport, site_identity
from app.transfer.export_audit import SCREEN, latest_exports, record_export
from app.transfer.export_formats import MEDIA_TYPES, ExportFormat, chunks, filename
from app.web.nav import AdminSection, register_admin_section

log = logging.getLogger("pullfirst.transfer")


class ExportForm(FlaskForm):
    export_format = RadioField(
        "Format",
        choices=[
            SelectChoice(ExportFormat.CSV.value, "CSV files in a zip (for a spreadsheet)"),
            SelectChoice(ExportFormat.JSON.value, "One JSON document (for a program)"),
        ],
        default=ExportFormat.CSV.value,
    )
    submit = SubmitField("Download the export")


def _logged(
    export: MemberExport, export_format: ExportFormat, data: Iterator[bytes], who: str
) -> Iterator[bytes]:
    yield from data
    log.info("member export (%s) for %s finished: %s", export_format, who, export.summary())


@role_required("admin")
def export_members() -> Response | str:
    form = ExportForm()
    if not form.validate_on_submit():
        downloads, total = latest_exports()
        return render_template(
            "transfer/export.html", form=form, parts=PARTS, downloads=downloads, total=total
        )
    export_format = ExportFormat(form.export_format.data)
    now = clock.now()
    who = f"{current_user.email} (member {current_user.id})"
    record_export(export_format, SCREEN, current_user.email, current_user.id, now)
    log.warning("member export (%s) downloaded by %s at %s", export_format, who, now.isoformat())
    export = MemberExport(now, site_identity())
    data = _logged(export, export_format, chunks(export, export_format), who)
    return Response(
        stream_with_context(data),
        mimetype=MEDIA_TYPES[export_format],
        headers={
            "Content-Disposition": f'attachment; filename="{filename(export_format, now)}"',
            "Cache-Control": "no-store",
        },
    )


def blueprint() -> Blueprint:
    bp = Blueprint("transfer_export", __name__, url_prefix="/admin/export")
    bp.add_url_rule("", view_func=export_members, methods=["GET", "POST"])
    return bp


def register(app: Flask) -> None:
    app.register_blueprint(blueprint())
    register_admin_section(
        app,
        AdminSection(
            "Export members",
            "transfer_export.export_members",
            "admin",
            "Every member, what they earned, their permissions and the whole consent ledger, "
            "as CSV or JSON.",
            order=80,
        ),
    )
