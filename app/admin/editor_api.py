"""The web editor's script talks to these JSON views (editor role, CSRF token in the
``X-CSRFToken`` header, as every POST):

- ``POST /admin/content/check`` — ``kind``, ``name`` and ``text``: the problems the content check
  finds in the text (``line``, ``message``, ``warning``) and its front matter as plain values,
  for the fields beside the text. Nothing is written.
- ``POST /admin/content/autosave`` — ``file`` (``posts/<slug>``…), ``text`` and ``hash`` (of the
  file the text started from): keeps the text as the editor's draft of that file. With
  ``discard`` it forgets the draft instead; a plain form post then returns to the file's page.

Both are rate-limited per editor: the check renders Markdown, and autosave writes a row.
"""

from __future__ import annotations

from flask import abort, jsonify, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app import clock
from app.accounts.roles import role_required
from app.admin import editing
from app.engage.ratelimits import member_key
from app.extensions import db, limiter
from app.site import drafts, editor
from app.site.errors import ContentPathError, DraftTooLong

CHECKS_PER_MINUTE = "60 per minute"  # a check after each pause in typing
AUTOSAVES_PER_MINUTE = "30 per minute"  # the script sends one at most every 3 seconds


@limiter.limit(CHECKS_PER_MINUTE, scope="editor-check", key_func=member_key)
@role_required("editor")
def content_check() -> Response | tuple[Response, int]:
    kind, name = request.form.get("kind", ""), request.form.get("name", "")
    text = request.form.get("text", "")
    if len(text) > editing.MAX_TEXT:
        return jsonify(error=f"The text is over {editing.MAX_TEXT:,} characters."), 413
    try:
        path = editor.file_for(editing.content_dir(), kind, name)
    except ContentPathError:
        abort(404)
    found = editing.check(kind, path, text.replace("\r\n", "\n"))
    response = jsonify(
        problems=[p.as_json() for p in found],
        errors=len(editing.errors(found)),
        fields=editing.front_matter(text),
    )
    response.cache_control.no_store = True
    return response


@limiter.limit(AUTOSAVES_PER_MINUTE, scope="editor-autosave", key_func=member_key)
@role_required("editor")
def content_autosave() -> Response | tuple[Response, int]:
    file = request.form.get("file", "")
    try:
        drafts.check_file_key(file)
    except ContentPathError:
        abort(404)
    kind_folder, _, name = file.partition("/")
    kind = next(k for k, folder in editor.FOLDERS.items() if folder == kind_folder)
    if not editor.file_for(editing.content_dir(), kind, name).is_file():
        abort(404)
    if "discard" in request.form:
        drafts.clear_draft(current_user.id, file)
        db.session.commit()
        if editing.wants_json():
            return jsonify(discarded=True)
        if kind == "survey":
            return redirect(url_for("admin.survey_edit", slug=name))
        return redirect(url_for("admin.content_edit", kind=kind, name=name))
    try:
        kept = drafts.keep_draft(
            current_user.id,
            file,
            request.form.get("text", "").replace("\r\n", "\n"),
            request.form.get("hash", ""),
            clock.now(),
        )
    except DraftTooLong as exc:
        return jsonify(error=str(exc)), 413
    db.session.commit()
    return jsonify(saved_at=kept.saved_at.isoformat())
