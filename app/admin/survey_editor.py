"""The survey editor at ``/admin/content/surveys/<slug>`` (editor role): the same editor as posts
(fields, line numbers, the check before saving, autosave) with a form for the questions, and new
surveys from the content list.

A survey people have answered may be reworded and grow, but a save that would remove a question
or a chosen option is refused at its line (:mod:`app.engage.survey_edits`): stored answers must
keep belonging to something. Views only: files are written by :mod:`app.site.editor`.
"""

from __future__ import annotations

from pathlib import Path

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from app import clock
from app.accounts.roles import role_required
from app.admin import content_history, editing
from app.admin.editing import LineMessage, NewSurveyForm
from app.admin.editor import preview_html
from app.engage import responses
from app.engage.survey_edits import starter_survey
from app.extensions import db
from app.site import drafts, editor
from app.site.errors import ContentPathError, EditConflict


class SurveyForm(FlaskForm):
    text = TextAreaField(
        "Front matter and Markdown",
        validators=[DataRequired("The file cannot be empty."), Length(max=editing.MAX_TEXT)],
    )
    hash = HiddenField()


def _path(slug: str) -> Path:
    try:
        path = editor.file_for(editing.content_dir(), "survey", slug)
    except ContentPathError:
        abort(404)
    if not path.is_file():
        abort(404)
    return path


def _edit_page(
    slug: str,
    form: SurveyForm,
    status: int = 200,
    found: list[LineMessage] | None = None,
    conflict: EditConflict | None = None,
) -> tuple[str, int]:
    path = _path(slug)
    if conflict is not None:
        form.hash.data = conflict.current_hash  # the next save knowingly replaces their text
    text = form.text.data or ""
    if found is None:
        found = editing.check("survey", path, text)
    key = editor.file_key("survey", slug)
    offer = editing.draft_to_offer(current_user.id, key, text)
    return render_template(
        "admin/content/survey_edit.html",
        slug=slug,
        name=slug,
        kind="survey",
        form=form,
        survey=responses.shelf().surveys.get(slug),
        answered=responses.response_counts().get(slug, 0),
        preview=preview_html(text),
        found=found,
        not_saved=status == 400 and bool(editing.errors(found)),
        conflict=conflict,
        offer=offer,
        offer_current=offer is not None
        and offer.base_hash == editor.open_file(path, "survey").hash,
        file_key=key,
        cta_choices=[],
    ), status


@role_required("editor")
def survey_new() -> Response | tuple[str, int]:
    form = NewSurveyForm()
    if form.validate_on_submit():
        title = form.survey_title.data or ""
        try:
            path = editor.create(
                editing.content_dir(), "survey", title, clock.now(), text=starter_survey(title)
            )
        except ContentPathError as exc:
            flash(f"No survey was created: {exc}.", "error")
        else:
            content_history.record_save([path], content_history.message_for("create", path))
            flash(f"Created {path.name}. Nobody sees it until a page links to it.", "success")
            return redirect(url_for("admin.survey_edit", slug=path.stem))
    else:
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for("admin.content_list"))


@role_required("editor")
def survey_edit(slug: str) -> Response | tuple[str, int]:
    path = _path(slug)
    key = editor.file_key("survey", slug)
    if request.method == "GET":
        opened = editor.open_file(path, "survey")
        kept = drafts.draft_of(current_user.id, key)
        if request.args.get("restore") == "draft" and kept is not None:
            return _edit_page(slug, SurveyForm(text=kept.text, hash=kept.base_hash))
        return _edit_page(slug, SurveyForm(text=opened.text, hash=opened.hash))
    form = SurveyForm()
    if not form.validate_on_submit():
        return _edit_page(slug, form, 400)
    if request.form.get("action") == "preview":
        return _edit_page(slug, form)
    text = (form.text.data or "").replace("\r\n", "\n")
    found = editing.check("survey", path, text)
    if editing.errors(found):
        return _edit_page(slug, form, 400, found=found)
    try:
        editor.write_file(path, text, form.hash.data or "")
    except EditConflict as exc:
        return _edit_page(slug, form, 409, conflict=exc)
    content_history.record_save([path], content_history.message_for("save", path))
    drafts.clear_draft(current_user.id, key)
    db.session.commit()
    flash("Saved.", "success")
    return redirect(url_for("admin.survey_edit", slug=slug))
