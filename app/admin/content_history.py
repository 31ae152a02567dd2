"""The history of a content file in the web editor (editor role): every commit that changed it,
the difference between one of them and the file now, and "restore this version", which saves
that text through the editor's normal, checked save as a new commit.

Also :func:`record_save`, which the editor calls after every write: the commit by the signed-in
editor and, with a remote, the push. A failure there never undoes the save; it is logged and
the editor sees a warning.

Paths come from the editor's kind and name (never a raw path from the URL); commit ids are hex,
7 to 40 characters, and must name a commit of this file's history, or the answer is 404.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from app.accounts.roles import role_required
from app.admin import editing
from app.site import content, editor
from app.site.contentgit import CONTENT_GIT, ContentGitError, Person, UnknownVersion, Version
from app.site.contentsync import CONTENT_SYNC, SetAside, conflicts_for
from app.site.errors import ContentPathError, EditConflict, SourceError
from app.site.gitwiring import site_person
from app.site.images import SavedImage

log = logging.getLogger("pullfirst.admin")

MAX_DIFF_LINES = 8000


class RestoreForm(FlaskForm):
    """Only the CSRF token: the version is in the URL."""


@dataclass(frozen=True)
class DiffLine:
    kind: str  # add, remove, hunk or same
    text: str


def _content_dir() -> Path:
    return Path(current_app.config["CONTENT_DIR"]).resolve()


def _path(kind: str, name: str) -> Path:
    if kind not in editor.FOLDERS:  # posts, pages and surveys
        abort(404)
    try:
        return editor.file_for(_content_dir(), kind, name)
    except ContentPathError:
        abort(404)


def edit_url(kind: str, name: str) -> str:
    """The editor of the file: surveys have their own, with the questions form."""
    if kind == "survey":
        return url_for("admin.survey_edit", slug=name)
    return url_for("admin.content_edit", kind=kind, name=name)


def content_name(path: Path) -> str:
    """``posts/x.md``: the path as editors know it, relative to the content folder."""
    return path.resolve().relative_to(_content_dir()).as_posix()


def _author() -> Person:
    email = str(current_user.email)
    return Person(str(current_user.display_name or "") or email.split("@")[0], email)


def record_save(paths: Sequence[Path], message: str) -> None:
    """Commit ``paths`` as the signed-in editor (and push them when a remote is set); a
    failure is logged and shown as a warning, and the saved files stay as they are."""
    try:
        CONTENT_GIT.get().commit(paths, _author(), site_person(current_app), message)
    except ContentGitError as exc:
        log.error("content commit failed (%s): %s", message, exc)
        flash(
            "Saved, but not recorded in the history (the content repository failed). "
            "Tell the operator; your text is safe in the file.",
            "warning",
        )
        return
    sync = CONTENT_SYNC.find()
    if sync is None:
        return
    try:
        sync.sync()
    except Exception as exc:  # a network failure must not turn a save into an error page
        log.warning("content push failed (%s): %s", message, exc)
        flash(
            "Saved, but not yet shared with the other servers. It will be sent again soon.",
            "warning",
        )


VERBS = {"create": "Create", "publish": "Publish", "schedule": "Schedule", "restore": "Restore"}


def message_for(action: str, path: Path) -> str:
    """The commit message of a save: ``Edit posts/x.md``, ``Publish posts/x.md`` …"""
    return f"{VERBS.get(action, 'Edit')} {content_name(path)}"


def record_upload(saved: SavedImage, images_dir: Path) -> None:
    """Commit the files of an uploaded image (every width) as the signed-in editor."""
    paths = [images_dir / variant.url.rsplit("/", 1)[-1] for variant in saved.variants]
    record_save(paths, f"Add image {saved.name}")


def set_aside_for(kind: str, name: str) -> list[SetAside]:
    """Versions of this file saved on another server at the same time, kept in the history."""
    try:
        path = editor.file_for(_content_dir(), kind, name)
    except ContentPathError:
        return []
    return conflicts_for(CONTENT_GIT.get(), content_name(path))


def diff_lines(old: str, new: str) -> list[DiffLine] | None:
    """A unified diff from ``old`` to ``new``, each line with its kind (no file headers), or
    None when the two hold more than :data:`MAX_DIFF_LINES` lines together: comparing is
    quadratic at worst, and no page may hold a request for long."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    if len(old_lines) + len(new_lines) > MAX_DIFF_LINES:
        return None
    lines = []
    for line in difflib.unified_diff(old_lines, new_lines, lineterm="", n=3):
        if line.startswith(("---", "+++")):
            continue
        kind = {"+": "add", "-": "remove", "@": "hunk"}.get(line[:1], "same")
        lines.append(DiffLine(kind, line))
    return lines


def _current_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig", "replace")
    except FileNotFoundError:
        return ""


@role_required("editor")
def history(kind: str, name: str) -> str:
    path = _path(kind, name)
    versions = CONTENT_GIT.get().history(path)
    if not versions and not path.is_file():
        abort(404)
    return render_template(
        "admin/content/history.html",
        kind=kind,
        edit_url=edit_url(kind, name),
        name=name,
        file_name=content_name(path),
        versions=versions,
        set_aside=set_aside_for(kind, name),
    )


def _version(path: Path, commit: str) -> tuple[Version, str | None]:
    try:
        return CONTENT_GIT.get().version(path, commit)
    except UnknownVersion:
        abort(404)


def _diff_page(
    kind: str,
    name: str,
    path: Path,
    version: Version,
    old: str | None,
    problem: SourceError | None = None,
    status: int = 200,
) -> tuple[str, int]:
    return render_template(
        "admin/content/diff.html",
        kind=kind,
        edit_url=edit_url(kind, name),
        name=name,
        file_name=content_name(path),
        version=version,
        lines=diff_lines(old or "", _current_text(path)),
        deleted=old is None,
        form=RestoreForm(),
        problem=problem,
    ), status


@role_required("editor")
def diff(kind: str, name: str, commit: str) -> tuple[str, int]:
    path = _path(kind, name)
    version, old = _version(path, commit)
    return _diff_page(kind, name, path, version, old)


@role_required("editor")
def restore(kind: str, name: str, commit: str) -> Response | tuple[str, int]:
    path = _path(kind, name)
    version, old = _version(path, commit)
    form = RestoreForm()
    if not form.validate_on_submit():
        abort(400)
    if old is None:
        flash("That version deleted the file; there is no text to restore.", "error")
        return redirect(url_for("admin.content_diff", kind=kind, name=name, commit=commit))
    found = editing.errors(editing.check(kind, path, old))
    if found:
        problem = SourceError(path, found[0].line, found[0].message)
        return _diff_page(kind, name, path, version, old, problem=problem, status=400)
    try:
        current = editor.open_file(path, kind).hash if path.is_file() else ""
        if kind == "survey":  # checked above by the survey loader and the answers rule
            editor.write_file(path, old, current)
        else:
            editor.save(path, old, current, kind, current_app.config["RENDER_BUDGET_SECONDS"])
    except SourceError as exc:
        return _diff_page(kind, name, path, version, old, problem=exc, status=400)
    except EditConflict:
        flash("Someone saved this file a moment ago. Look at the difference again.", "error")
        return redirect(url_for("admin.content_diff", kind=kind, name=name, commit=commit))
    record_save([path], f"Restore {content_name(path)} to {version.short}")
    content.library().refresh()
    flash("Restored that version. It is now the newest one in the history.", "success")
    return redirect(edit_url(kind, name))


def register(app: Flask) -> None:
    """Lets the editor's template show versions set aside by a conflict."""
    app.jinja_env.globals["content_set_aside"] = set_aside_for
