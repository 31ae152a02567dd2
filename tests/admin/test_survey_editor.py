"""The survey editor at /admin/content/surveys/<slug>: new surveys from the content list, edits
checked by the survey loader before they are written, and changes refused when they would
leave stored answers without their question or option."""

from __future__ import annotations

import html
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.admin.editor_forms import editor_form
from tests.conftest import PASSWORD, REPO
from tests.helpers import csrf_token, sign_in

URL = "/admin/content/surveys/tastes"
TASTES = """\
---
title: Tastes
description: Two questions.
questions:
  - id: fruit
    type: single
    label: Which fruit?
    options: [Apple, Pear, Quince]
  - id: why
    type: text
    label: Why that one?
---
Tell us.
"""


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(REPO / "content", root)
    (root / "surveys" / "tastes.md").write_text(TASTES)
    return root


@pytest.fixture
def app_config(
    app_config: dict[str, Any], content_dir: Path, request: pytest.FixtureRequest
) -> dict[str, Any]:
    extra = getattr(request, "param", {})  # a test may ask for more, e.g. CONTENT_GIT
    return {**app_config, "CONTENT_DIR": str(content_dir), "CONTENT_RECHECK_SECONDS": 0, **extra}


def _form(client: FlaskClient, url: str = URL) -> dict[str, str]:
    return editor_form(client, url)


def _problems(page: str) -> list[str]:
    """The check's messages on a page, as ``Line N: message``."""
    items = re.findall(r'<li class="problem[^"]*"[^>]*>(.*?)</li>', page, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", item)).strip() for item in items]


def _answer(app: Flask, member: Any, answers: dict[str, Any]) -> None:
    from app.engage.models import SurveyResponse
    from app.extensions import db

    with app.app_context():
        db.session.add(
            SurveyResponse(
                member_id=member.id,
                survey="tastes",
                version="v1",
                answers=answers,
                submitted_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
            )
        )
        db.session.commit()


def test_a_new_survey_is_created_from_the_list(editor: FlaskClient, content_dir: Path) -> None:
    page = editor.get("/admin/content").text
    assert "Tastes" in page and "Create survey" in page
    created = editor.post(
        "/admin/content/surveys/new",
        data={"csrf_token": csrf_token(page), "survey_title": "Breakfast habits"},
    )
    assert created.status_code == 302
    assert created.headers["Location"] == "/admin/content/surveys/breakfast-habits"
    path = content_dir / "surveys" / "breakfast-habits.md"
    assert 'title: "Breakfast habits"' in path.read_text()
    shown = editor.get(created.headers["Location"]).text
    assert "Created breakfast-habits.md" in shown and "No problems found." in shown
    refused = editor.post(
        "/admin/content/surveys/new", data={"csrf_token": csrf_token(page), "survey_title": ""}
    )
    assert refused.status_code == 302 and "Give it a title." in editor.get("/admin/content").text


def test_an_edit_round_trips_and_the_survey_changes(
    editor: FlaskClient, client: FlaskClient, content_dir: Path
) -> None:
    form = _form(editor)
    text = form["text"].replace("Which fruit?", "Which fruit do you like best?")
    text = text.replace(
        "label: Why that one?", "label: Why that one?\n    hint: One line is enough."
    )
    saved = editor.post(URL, data={**form, "text": text, "action": "save"})
    assert saved.status_code == 302
    assert (content_dir / "surveys" / "tastes.md").read_text() == text
    assert "Saved." in editor.get(URL).text
    survey = client.get("/surveys/tastes/").text
    assert "Which fruit do you like best?" in survey and "One line is enough." in survey


def test_a_survey_that_asks_for_consent_is_refused_at_its_line(
    editor: FlaskClient, content_dir: Path
) -> None:
    form = _form(editor)
    text = form["text"].replace("type: text", "type: email-consent")
    response = editor.post(URL, data={**form, "text": text, "action": "save"})
    assert response.status_code == 400
    shown = html.unescape(response.text)
    assert "Not saved." in shown
    assert any(
        p.startswith("Line 10: a survey never asks for consent") for p in _problems(shown)
    ), _problems(shown)
    assert (content_dir / "surveys" / "tastes.md").read_text() == TASTES


def test_the_check_reads_the_questions_for_the_form(editor: FlaskClient) -> None:
    form = _form(editor)
    answer = editor.post(
        "/admin/content/check",
        data={"kind": "survey", "name": "tastes", "text": form["text"].replace("Pear, ", "")},
        headers={"X-CSRFToken": form["csrf_token"], "Accept": "application/json"},
    ).json
    assert answer["errors"] == 0
    assert answer["fields"]["questions"][0] == {
        "id": "fruit",
        "type": "single",
        "label": "Which fruit?",
        "options": ["Apple", "Quince"],
    }


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (
            lambda t: t[: t.index("  - id: why")] + "---\nTell us.\n",
            4,
            "question 'why' has 1 answer: keep its id",
        ),
        (
            lambda t: t.replace("[Apple, Pear, Quince]", "[Apple, Quince]"),
            8,
            "option 'Pear' of question 'fruit' was chosen in 1 answer",
        ),
    ],
)
def test_changes_that_orphan_answers_are_refused(
    app: Flask,
    editor: FlaskClient,
    member: Any,
    content_dir: Path,
    change: Any,
    line: int,
    message: str,
) -> None:
    _answer(app, member, {"fruit": "Pear", "why": "Crisp."})
    form = _form(editor)
    assert "1 person has answered" in editor.get(URL).text
    response = editor.post(URL, data={**form, "text": change(form["text"]), "action": "save"})
    assert response.status_code == 400
    found = _problems(response.text)
    assert any(p.startswith(f"Line {line}: {message}") for p in found), found
    assert (content_dir / "surveys" / "tastes.md").read_text() == TASTES


def test_changes_that_keep_every_answer_are_saved(
    app: Flask, editor: FlaskClient, member: Any, content_dir: Path
) -> None:
    _answer(app, member, {"fruit": "Pear", "why": None})
    form = _form(editor)
    text = form["text"].replace("[Apple, Pear, Quince]", "[Pear, Plum]")  # Apple: no answers
    text = text.replace("label: Which fruit?", "label: Which fruit, really?")
    response = editor.post(URL, data={**form, "text": text, "action": "save"})
    assert response.status_code == 302, html.unescape(response.text)
    assert "[Pear, Plum]" in (content_dir / "surveys" / "tastes.md").read_text()


def test_the_survey_editor_is_for_editors_with_a_token(
    client: FlaskClient, editor: FlaskClient, member: Any, content_dir: Path
) -> None:
    form = _form(editor)
    assert editor.post(URL, data={**form, "csrf_token": "", "action": "save"}).status_code == 400
    assert editor.get("/admin/content/surveys/nope").status_code == 404
    assert editor.get("/admin/content/surveys/..%2Fscopes").status_code == 404
    assert client.get(URL).status_code == 302  # to sign in
    sign_in(client, "reader@example.com", PASSWORD)
    assert client.get(URL).status_code == 403
    token = csrf_token(client.get("/account").text)
    assert client.post(URL, data={**form, "csrf_token": token}).status_code == 403
    assert (
        client.post(
            "/admin/content/surveys/new", data={"csrf_token": token, "survey_title": "Mine"}
        ).status_code
        == 403
    )
    assert not (content_dir / "surveys" / "mine.md").exists()


def test_survey_drafts_are_autosaved_and_offered(editor: FlaskClient) -> None:
    form = _form(editor)
    typed = form["text"].replace("Tell us.", "Tell us, please.")
    kept = editor.post(
        "/admin/content/autosave",
        data={"file": "surveys/tastes", "text": typed, "hash": form["hash"]},
        headers={"X-CSRFToken": form["csrf_token"], "Accept": "application/json"},
    )
    assert kept.status_code == 200
    assert "You have text from" in editor.get(URL).text
    assert _form(editor, URL + "?restore=draft")["text"] == typed


@pytest.mark.parametrize("app_config", [{"CONTENT_GIT": True}], indirect=True)
def test_a_survey_has_a_history_and_restores_under_the_answers_rule(
    app: Flask, editor: FlaskClient, member: Any, content_dir: Path
) -> None:
    first = _form(editor)
    older = first["text"].replace("Which fruit?", "Which fruit, truly?")
    assert editor.post(URL, data={**first, "text": older, "action": "save"}).status_code == 302
    second = _form(editor)
    newer = second["text"].replace(
        "---\nTell us.", "  - id: when\n    type: text\n    label: Since when?\n---\nTell us."
    )
    assert editor.post(URL, data={**second, "text": newer, "action": "save"}).status_code == 302

    history = editor.get("/admin/content/survey/tastes/history")
    assert history.status_code == 200
    assert 'href="/admin/content/survey/tastes/history"' in editor.get(URL).text
    commits = re.findall(r"/admin/content/survey/tastes/history/([0-9a-f]{40})", history.text)
    assert len(commits) == 2  # newest first: the question added, then the reworded one
    oldest = commits[-1]

    # Someone answered the question the older version does not have: restoring it is refused.
    _answer(app, member, {"fruit": "Pear", "when": "Always."})
    url = f"/admin/content/survey/tastes/history/{oldest}/restore"
    token = csrf_token(editor.get(f"/admin/content/survey/tastes/history/{oldest}").text)
    refused = editor.post(url, data={"csrf_token": token})
    assert refused.status_code == 400
    assert "when" in html.unescape(refused.text)
    assert (content_dir / "surveys" / "tastes.md").read_text() == newer

    # Without that answer, the restore is a new save, and the survey editor opens on it.
    with app.app_context():
        from app.engage.models import SurveyResponse
        from app.extensions import db

        db.session.query(SurveyResponse).delete()
        db.session.commit()
    restored = editor.post(url, data={"csrf_token": token})
    assert restored.status_code == 302 and restored.location.endswith(URL)
    assert (content_dir / "surveys" / "tastes.md").read_text() == older
    assert len(re.findall(r"history/[0-9a-f]{40}", editor.get(history.request.path).text)) == 3
