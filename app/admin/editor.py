"""The web editor at ``/admin/content`` (editor role): list, create and edit posts and pages with
a live preview rendered by the server, image uploads, publish now or schedule.

Every save runs the content check first (:mod:`app.admin.editing`) and writes nothing while the
text has an error; the messages are shown at their lines. Saving clears the editor's autosaved
draft of the file; a page opened with ``?restore=draft`` starts from that draft instead.

Views only: files are written by :mod:`app.site.editor`, images by :mod:`app.site.images`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from markupsafe import Markup
from werkzeug.wrappers import Response
from wtforms import DateTimeLocalField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app import clock
from app.accounts.roles import role_required
from app.admin import content_history, editing
from app.admin.editing import LineMessage
from app.extensions import db
from app.site import content, drafts, editor
from app.site.errors import (
    ContentPathError,
    EditConflict,
    ImageRejected,
    OverBudget,
    SourceError,
    SourceOverBudget,
)
from app.site.frontmatter import parse_source
from app.site.images import IMAGES, MAX_UPLOAD_BYTES, save_upload
from app.site.pages import Page
from app.site.rendering import render_markdown
from app.web.times import from_wall_clock, local_time, reader_zone, wall_clock

MAX_TEXT = 900_000


class NewForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired("Give it a title."), Length(max=120)])
    kind = RadioField(
        "Kind", choices=[SelectChoice("post", "Post"), SelectChoice("page", "Page")], default="post"
    )


class EditForm(FlaskForm):
    text = TextAreaField(
        "Front matter and Markdown",
        validators=[DataRequired("The file cannot be empty."), Length(max=MAX_TEXT)],
    )
    hash = HiddenField()
    publish_at = DateTimeLocalField(
        "Publish at (your time)", format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )


class UploadForm(FlaskForm):
    image = FileField(
        "Image (JPEG, PNG, WebP or GIF, up to 10 MB)",
        validators=[FileRequired("Choose an image file.")],
    )
    alt = StringField(
        "Describe the image (alt text)",
        validators=[
            DataRequired("Describe the image for people who cannot see it."),
            Length(max=200),
        ],
    )


def _content_dir() -> Path:
    return Path(current_app.config["CONTENT_DIR"])


def _path(kind: str, name: str) -> Path:
    if kind not in editor.KINDS:
        abort(404)
    try:
        path = editor.file_for(_content_dir(), kind, name)
    except ContentPathError:
        abort(404)
    if not path.is_file():
        abort(404)
    return path


def preview_html(text: str) -> Markup:
    """The body of ``text`` rendered as the site will show it, or the problem with its line
    (a body over the render budget is a problem too: nothing half-rendered is shown)."""
    try:
        source = parse_source(Path("preview.md"), text.encode("utf-8"))
        images = IMAGES.get()
        try:
            rendered = render_markdown(
                source.body, images, current_app.config["RENDER_BUDGET_SECONDS"]
            )
        except OverBudget as exc:
            raise SourceOverBudget.of(source.path, source.body_line, exc) from None
    except SourceError as exc:
        return Markup('<p class="form-errors">Line {}: {}</p>').format(exc.line, exc.message)
    return Markup(rendered.html)  # noqa: S704 - sanitized


@role_required("editor")
def content_list() -> str:
    rows = editor.list_files(_content_dir(), content.current(), clock.now())
    return render_template(
        "admin/content/list.html",
        rows=rows,
        form=NewForm(),
        surveys=editing.survey_rows(),
        survey_form=editing.NewSurveyForm(),
    )


@role_required("editor")
def content_new() -> Response | tuple[str, int]:
    form = NewForm()
    if form.validate_on_submit():
        try:
            path = editor.create(_content_dir(), form.kind.data, form.title.data, clock.now())
        except ContentPathError as exc:
            form.title.errors.append(str(exc))
        else:
            content_history.record_save([path], content_history.message_for("create", path))
            flash(f"Created {path.name} as a draft.", "success")
            return redirect(url_for("admin.content_edit", kind=form.kind.data, name=path.stem))
    rows = editor.list_files(_content_dir(), content.current(), clock.now())
    return render_template(
        "admin/content/list.html",
        rows=rows,
        form=form,
        surveys=editing.survey_rows(),
        survey_form=editing.NewSurveyForm(),
    ), 400


def _page(kind: str, name: str) -> Page | None:
    return next(
        (p for p in content.current().all_pages if p.path.stem == name and p.kind == kind), None
    )


def _edit_page(
    kind: str,
    name: str,
    form: EditForm,
    status: int = 200,
    conflict: EditConflict | None = None,
    problem: SourceError | None = None,
    upload: UploadForm | None = None,
    found: list[LineMessage] | None = None,
) -> tuple[str, int]:
    page = _page(kind, name)
    if request.method == "GET":
        form.publish_at.data = _scheduled(page)
    if conflict is not None:
        form.hash.data = conflict.current_hash  # the next save knowingly replaces their text
    path = _path(kind, name)
    if problem is not None:
        found = [LineMessage(problem.line, problem.message)]
    elif found is None:
        found = editing.check(kind, path, form.text.data or "")
    key = editor.file_key(kind, name)
    offer = editing.draft_to_offer(current_user.id, key, form.text.data or "")
    return render_template(
        "admin/content/edit.html",
        kind=kind,
        name=name,
        form=form,
        page=page,
        upload=upload or UploadForm(),
        preview=preview_html(form.text.data or ""),
        conflict=conflict,
        not_saved=status == 400 and bool(editing.errors(found)),
        found=found,
        offer=offer,
        offer_current=offer is not None and offer.base_hash == editor.open_file(path, kind).hash,
        file_key=key,
        cta_choices=editing.cta_choices(),
        now=clock.now(),
        your_zone=reader_zone(),
    ), status


def _scheduled(page: Page | None) -> datetime | None:
    """When the page is set to go public, on the editor's clock, if that is still to come."""
    at = page.meta.publish_at if page is not None else None
    if at is None or at <= clock.now():
        return None
    return wall_clock(at, reader_zone())


@role_required("editor")
def content_edit(kind: str, name: str) -> Response | tuple[str, int]:
    path = _path(kind, name)
    if request.method == "GET":
        draft = editor.open_file(path, kind)
        kept = drafts.draft_of(current_user.id, editor.file_key(kind, name))
        if request.args.get("restore") == "draft" and kept is not None:
            # The draft's base hash: a file saved since then shows as a conflict on save.
            return _edit_page(kind, name, EditForm(text=kept.text, hash=kept.base_hash))
        return _edit_page(kind, name, EditForm(text=draft.text, hash=draft.hash))
    form = EditForm()
    if not form.validate_on_submit():
        return _edit_page(kind, name, form, 400)
    action = request.form.get("action", "save")
    text = form.text.data
    try:
        if action == "preview":
            return _edit_page(kind, name, form)
        if action == "publish":
            text = editor.publish_now(text, clock.now())
        elif action == "schedule":
            if form.publish_at.data is None:
                form.publish_at.errors = ["Choose when to publish."]
                return _edit_page(kind, name, form, 400)
            moment = from_wall_clock(form.publish_at.data, reader_zone())  # the editor's clock
            if moment <= clock.now():
                form.publish_at.errors = ["Choose a moment in the future, or publish now."]
                return _edit_page(kind, name, form, 400)
            text = editor.schedule(text, moment)
        found = editing.check(kind, path, text)
        if editing.errors(found):
            return _edit_page(kind, name, form, 400, found=found)
        editor.save(
            path, text, form.hash.data or "", kind, current_app.config["RENDER_BUDGET_SECONDS"]
        )
    except SourceError as exc:
        return _edit_page(kind, name, form, 400, problem=exc)
    except EditConflict as exc:
        return _edit_page(kind, name, form, 409, conflict=exc)
    content_history.record_save([path], content_history.message_for(action, path))
    drafts.clear_draft(current_user.id, editor.file_key(kind, name))
    db.session.commit()
    content.library().refresh()
    messages = {"publish": "Published.", "save": "Saved."}
    if action == "schedule":
        flash(f"Scheduled for {local_time(moment, reader_zone())}.", "success")
    else:
        flash(messages.get(action, "Saved."), "success")
    return redirect(url_for("admin.content_edit", kind=kind, name=name))


@role_required("editor")
def content_preview() -> Response:
    """The live preview: the posted text rendered as a fragment of sanitized HTML."""
    text = request.form.get("text", "")[:MAX_TEXT]
    response = current_app.make_response(str(preview_html(text)))
    response.cache_control.no_store = True
    return response


@role_required("editor")
def content_upload(kind: str, name: str) -> Response | tuple[str | Response, int]:
    _path(kind, name)
    upload = UploadForm()
    if upload.validate_on_submit():
        try:
            # Read one byte past the limit: enough to refuse, never the whole of a huge file.
            raw = upload.image.data.read(MAX_UPLOAD_BYTES + 1)
            saved = save_upload(
                raw, upload.image.data.filename or "image", _content_dir() / "images"
            )
        except ImageRejected as exc:
            upload.image.errors = [str(exc)]
        else:
            content_history.record_upload(saved, _content_dir() / "images")
            sizes = ", ".join(str(v.width) for v in saved.variants)
            markdown = saved.markdown(upload.alt.data)
            if editing.wants_json():
                return jsonify(
                    markdown=markdown, message=f"Uploaded in widths {sizes}. Added at the cursor."
                )
            flash(
                f"Uploaded in widths {sizes}. Paste this where the image belongs: {markdown}",
                "success",
            )
            return redirect(url_for("admin.content_edit", kind=kind, name=name))
    if editing.wants_json():
        messages = [str(e) for errors in upload.errors.values() for e in errors]
        return jsonify(errors=messages or ["The upload was refused."]), 400
    draft = editor.open_file(_path(kind, name), kind)
    form = EditForm(formdata=None, text=draft.text, hash=draft.hash)
    return _edit_page(kind, name, form, 400, upload=upload)
