"""The web editor's check before saving, its autosaved drafts and its JSON upload: the same
checks as `flask content check` on text not saved yet, saves refused at the line of an error,
drafts kept per editor and file, offered back and cleared by a save."""

from __future__ import annotations

import html
import io
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from tests.admin.editor_forms import editor_form
from tests.conftest import PASSWORD, REPO
from tests.helpers import csrf_token, sign_in

URL = "/admin/content/post/consent-ledger"
FILE = "posts/consent-ledger"


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(REPO / "content", root)
    return root


@pytest.fixture
def app_config(app_config: dict[str, Any], content_dir: Path) -> dict[str, Any]:
    return {**app_config, "CONTENT_DIR": str(content_dir), "CONTENT_RECHECK_SECONDS": 0}


@pytest.fixture
def path(content_dir: Path) -> Path:
    return content_dir / "posts" / "consent-ledger.md"


def _form(client: FlaskClient, url: str = URL) -> dict[str, str]:
    return editor_form(client, url)


def _with_line(text: str, after: str, line: str) -> tuple[str, int]:
    """``text`` with ``line`` added after the line starting with ``after``, and its number."""
    lines = text.split("\n")
    index = next(i for i, value in enumerate(lines) if value.startswith(after)) + 1
    lines.insert(index, line)
    return "\n".join(lines), index + 1


def _check(client: FlaskClient, token: str, text: str, **extra: str) -> Any:
    data = {"kind": "post", "name": "consent-ledger", "text": text, **extra}
    return client.post(
        "/admin/content/check",
        data=data,
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )


def test_the_check_finds_what_content_check_finds_at_its_line(editor: FlaskClient) -> None:
    form = _form(editor)
    clean = _check(editor, form["csrf_token"], form["text"])
    assert clean.status_code == 200
    assert clean.json["errors"] == 0 and clean.json["fields"]["title"]
    text, typo = _with_line(form["text"], "title:", "authr: Someone")
    text, cta = _with_line(text, "authr:", "cta: scope:nonexistent")
    answer = _check(editor, form["csrf_token"], text).json
    problems = {(p["line"], p["message"], p["warning"]) for p in answer["problems"]}
    assert (typo, "unknown field 'authr' (is it misspelt?)", False) in problems
    assert (
        cta,
        "call to action 'scope:nonexistent' names no scope of that name",
        False,
    ) in problems
    assert answer["errors"] == 2
    assert answer["fields"]["authr"] == "Someone"  # the fields follow the front matter


@pytest.mark.parametrize(
    ("after", "line", "message"),
    [
        ("date:", "publish_at: next tuesday", "publish_at 'next tuesday' is not a date"),
        ("title:", "noindex: maybe", "noindex must be true or false"),
        ("title:", "image: cover.png", "image must be a path such as /images/cover.webp"),
    ],
)
def test_bad_fields_are_one_error_at_their_line(
    editor: FlaskClient, after: str, line: str, message: str
) -> None:
    form = _form(editor)
    text, number = _with_line(form["text"], after, line)
    problems = _check(editor, form["csrf_token"], text).json["problems"]
    assert len(problems) == 1
    assert problems[0]["line"] == number and message in problems[0]["message"]


def test_a_missing_description_is_advice_and_the_save_goes_through(
    editor: FlaskClient, path: Path
) -> None:
    form = _form(editor)
    text = re.sub(r"(?m)^description:.*\n", "", form["text"])
    problems = _check(editor, form["csrf_token"], text).json["problems"]
    assert [p["warning"] for p in problems] == [True]
    assert "description is missing" in problems[0]["message"]
    saved = editor.post(URL, data={**form, "text": text, "action": "save"})
    assert saved.status_code == 302 and "description:" not in path.read_text()


def test_a_save_with_errors_is_refused_at_their_lines_and_nothing_written(
    editor: FlaskClient, path: Path
) -> None:
    form = _form(editor)
    before = path.read_text()
    text, typo = _with_line(form["text"], "title:", "authr: Someone")
    text, cta = _with_line(text, "authr:", "cta: scope:nonexistent")
    for action in ("save", "publish"):
        response = editor.post(URL, data={**form, "text": text, "action": action})
        assert response.status_code == 400
        shown = html.unescape(response.text)
        assert "Not saved." in shown
        assert f"data-line=\"{typo}\">Line {typo}</a>: unknown field 'authr'" in shown
        assert f"data-line=\"{cta}\">Line {cta}</a>: call to action 'scope:nonexistent'" in shown
        assert "authr: Someone" in shown  # the text is kept for fixing
        assert path.read_text() == before


def test_the_page_shows_the_problems_of_the_saved_file(editor: FlaskClient, path: Path) -> None:
    path.write_text(path.read_text().replace("title:", "authr: Someone\ntitle:", 1))
    page = html.unescape(editor.get(URL).text)
    assert re.search(r"Line 2</a>: unknown field 'authr'", page)


def test_the_check_is_for_editors_only_and_needs_its_token(
    client: FlaskClient, editor: FlaskClient, member: Any
) -> None:
    form = _form(editor)
    assert _check(editor, "", form["text"]).status_code == 400  # no CSRF token
    assert _check(editor, form["csrf_token"], "x", name="../site").status_code == 404
    assert _check(editor, form["csrf_token"], "x", kind="secret").status_code == 404
    sign_in(client, "reader@example.com", PASSWORD)
    token = csrf_token(client.get("/account").text)
    assert _check(client, token, form["text"]).status_code == 403


# --- autosave ---------------------------------------------------------------------------------


def _autosave(client: FlaskClient, token: str, **data: str) -> Any:
    return client.post(
        "/admin/content/autosave",
        data={"file": FILE, **data},
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )


def test_autosave_keeps_the_text_offers_it_back_and_a_save_clears_it(
    editor: FlaskClient, path: Path
) -> None:
    form = _form(editor)
    typed = re.sub(r"(?m)^title:.*$", "title: Typed but not saved", form["text"])
    kept = _autosave(editor, form["csrf_token"], text=typed, hash=form["hash"])
    assert kept.status_code == 200 and kept.json["saved_at"]
    page = editor.get(URL).text
    assert "You have text from" in page and "Restore it" in page
    assert "older version" not in page  # typed over the file as it is now
    assert "Typed but not saved" not in page.split("<textarea")[1]  # the file, until asked
    restored = _form(editor, URL + "?restore=draft")
    assert restored["text"] == typed and restored["hash"] == form["hash"]
    saved = editor.post(URL, data={**restored, "action": "save"})
    assert saved.status_code == 302, html.unescape(saved.text)
    assert "Typed but not saved" in path.read_text()
    assert "You have text from" not in editor.get(URL).text  # the save cleared it


def test_a_draft_over_an_older_file_restores_into_a_conflict(
    editor: FlaskClient, path: Path
) -> None:
    form = _form(editor)
    typed = form["text"] + "\nMy paragraph.\n"
    _autosave(editor, form["csrf_token"], text=typed, hash=form["hash"])
    path.write_text(path.read_text() + "\nTheir paragraph.\n")  # someone saved meanwhile
    assert "older version of this file" in editor.get(URL).text
    restored = _form(editor, URL + "?restore=draft")
    response = editor.post(URL, data={**restored, "action": "save"})
    assert response.status_code == 409 and "Their paragraph." in response.text
    assert "My paragraph." not in path.read_text()


def test_drafts_are_per_editor_and_can_be_discarded(
    app: Flask, editor: FlaskClient, clock: Any
) -> None:
    from app.accounts import members
    from app.extensions import db

    with app.app_context():
        members.create_member(
            "other@example.com", PASSWORD, now=clock(), role="editor", verified=True
        )
        db.session.commit()
    other = app.test_client()
    sign_in(other, "other@example.com", PASSWORD)
    form = _form(editor)
    _autosave(editor, form["csrf_token"], text=form["text"] + "\nMine.\n", hash=form["hash"])
    assert "You have text from" not in other.get(URL).text
    page = editor.get(URL).text
    discard = editor.post(
        "/admin/content/autosave",
        data={"csrf_token": csrf_token(page), "file": FILE, "discard": "1"},
    )
    assert discard.status_code == 302 and discard.headers["Location"] == URL
    assert "You have text from" not in editor.get(URL).text


@pytest.mark.parametrize(
    ("file", "status"),
    [("posts/../../etc", 404), ("secrets/x", 404), ("posts/no-such-post", 404), ("", 404)],
)
def test_autosave_names_only_existing_content_files(
    editor: FlaskClient, file: str, status: int
) -> None:
    token = csrf_token(editor.get(URL).text)
    assert _autosave(editor, token, text="x", hash="", file=file).status_code == status


def test_autosave_is_bounded_protected_and_rate_limited(
    editor: FlaskClient, client: FlaskClient, member: Any
) -> None:
    form = _form(editor)
    assert _autosave(editor, "", text="x", hash="").status_code == 400  # no CSRF token
    huge = _autosave(editor, form["csrf_token"], text="x" * 900_001, hash=form["hash"])
    assert huge.status_code == 413 and "900,000" in huge.json["error"]
    sign_in(client, "reader@example.com", PASSWORD)
    token = csrf_token(client.get("/account").text)
    assert _autosave(client, token, text="x", hash="").status_code == 403
    statuses = [
        _autosave(editor, form["csrf_token"], text=f"x{n}", hash="").status_code for n in range(31)
    ]
    assert statuses.count(429) >= 1 and statuses[0] == 200


# --- uploads answered in JSON -----------------------------------------------------------------


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (600, 400), (30, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def test_an_upload_from_the_script_is_answered_in_json(
    editor: FlaskClient, content_dir: Path
) -> None:
    token = csrf_token(editor.get(URL).text)
    response = editor.post(
        URL + "/images",
        data={"csrf_token": token, "alt": "A blue field", "image": (io.BytesIO(_png()), "b.png")},
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    match = re.fullmatch(
        r"!\[A blue field\]\((/images/b-[0-9a-f]{6}-\d+\.webp)\)", response.json["markdown"]
    )
    assert match and (content_dir / match.group(1).lstrip("/")).is_file()
    refused = editor.post(
        URL + "/images",
        data={"csrf_token": token, "alt": "x", "image": (io.BytesIO(b"nope"), "x.png")},
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )
    assert refused.status_code == 400
    assert any("not a JPEG, PNG, WebP or GIF" in e for e in refused.json["errors"])
