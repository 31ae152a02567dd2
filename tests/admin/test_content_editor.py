"""The web editor at /admin/content: roles, create, edit, preview, conflicts, images, publish."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from tests.conftest import PASSWORD, Clock
from tests.helpers import csrf_token, sign_in
from tests.site.conftest import FILES, SITE_TOML, write_content


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    root.mkdir()
    (root / "site.toml").write_text(SITE_TOML)
    write_content(root, FILES)
    return root


@pytest.fixture
def app_config(app_config: dict[str, Any], content_dir: Path) -> dict[str, Any]:
    return {**app_config, "CONTENT_DIR": str(content_dir), "CONTENT_RECHECK_SECONDS": 0}


def _edit_form(client: FlaskClient, url: str) -> dict[str, str]:
    page = client.get(url).text
    text = re.search(r"<textarea[^>]*name=\"text\"[^>]*>\r?\n?(.*?)</textarea>", page, re.S)
    digest = re.search(
        r'name="hash" type="hidden" value="([^"]*)"|id="hash" name="hash" '
        r'type="hidden" value="([^"]*)"',
        page,
    )
    assert text and digest, page
    return {
        "csrf_token": csrf_token(page),
        "text": html.unescape(text.group(1)),
        "hash": digest.group(1) or digest.group(2) or "",
    }


def test_only_editors_open_the_editor(client: FlaskClient, member: Any) -> None:
    assert client.get("/admin/content").status_code == 302
    sign_in(client, "reader@example.com", PASSWORD)
    assert client.get("/admin/content").status_code == 403
    assert client.get("/admin/content/post/ledger").status_code == 403


def test_the_list_shows_every_file_with_its_state(editor: FlaskClient, content_dir: Path) -> None:
    (content_dir / "posts" / "broken.md").write_text("---\ntitle: [\n---\n")
    page = editor.get("/admin/content").text
    for title, state in [
        ("Keep a consent ledger", "public"),
        ("A draft idea", "draft"),
        ("From the future", "scheduled"),
        ("An expired offer", "expired"),
        ("broken.md", "broken"),
    ]:
        assert re.search(rf">{re.escape(title)}</a>.*?state-{state}", page, re.S), title
    assert "line 3: invalid YAML" in page
    assert "Content" in editor.get("/admin/").text


def test_create_a_draft_then_edit_and_save_it(editor: FlaskClient, content_dir: Path) -> None:
    page = editor.get("/admin/content").text
    response = editor.post(
        "/admin/content/new",
        data={"csrf_token": csrf_token(page), "title": "Rewards that people use", "kind": "post"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/content/post/rewards-that-people-use"
    path = content_dir / "posts" / "rewards-that-people-use.md"
    assert "draft: true" in path.read_text()
    form = _edit_form(editor, "/admin/content/post/rewards-that-people-use")
    form["text"] = form["text"].replace("Write the first paragraph here.", "Stickers *work*.")
    saved = editor.post(
        "/admin/content/post/rewards-that-people-use", data={**form, "action": "save"}
    )
    assert saved.status_code == 302
    assert "Stickers *work*." in path.read_text()
    assert not list(path.parent.glob(".*.tmp"))  # the temporary file was renamed into place
    assert "Saved." in editor.get(saved.headers["Location"]).text


def test_a_conflicting_edit_is_shown_not_overwritten(
    app: Flask, editor: FlaskClient, content_dir: Path
) -> None:
    url = "/admin/content/post/ledger"
    mine = _edit_form(editor, url)
    path = content_dir / "posts" / "ledger.md"
    theirs = path.read_text().replace("beats a boolean column", "beats any flag")
    path.write_text(theirs)  # someone else saved in the meantime
    mine["text"] = mine["text"].replace("A ledger of consent", "MY EDIT: a ledger of consent")
    response = editor.post(url, data={**mine, "action": "save"})
    assert response.status_code == 409
    assert path.read_text() == theirs
    assert "Someone saved this file after you opened it" in response.text
    assert "beats any flag" in response.text and "MY EDIT" in response.text
    # Saving again from the conflict page knowingly replaces their text.
    retry = _edit_form_from(response.text)
    retry["text"] = mine["text"]
    assert editor.post(url, data={**retry, "action": "save"}).status_code == 302
    assert "MY EDIT" in path.read_text()


def _edit_form_from(page: str) -> dict[str, str]:
    digest = re.search(r'name="hash" type="hidden" value="([^"]*)"', page)
    assert digest
    return {"csrf_token": csrf_token(page), "hash": digest.group(1)}


def test_invalid_front_matter_is_refused_with_its_line_and_nothing_written(
    editor: FlaskClient, content_dir: Path
) -> None:
    url = "/admin/content/post/ledger"
    form = _edit_form(editor, url)
    path = content_dir / "posts" / "ledger.md"
    before = path.read_text()
    form["text"] = form["text"].replace("date: 2026-01-12", "date: someday")
    response = editor.post(url, data={**form, "action": "save"})
    assert response.status_code == 400
    shown = html.unescape(response.text)
    assert "Not saved." in shown
    assert re.search(r">Line 4</a>: date 'someday' is not a date", shown)
    assert path.read_text() == before


def test_preview_renders_like_the_site_and_sanitizes(editor: FlaskClient) -> None:
    page = editor.get("/admin/content/post/ledger").text
    response = editor.post(
        "/admin/content/preview",
        data={
            "text": "---\ntitle: x\n---\n## Hello\n\n<script>alert(1)</script>*hi*",
            "csrf_token": csrf_token(page),
        },
    )
    assert response.status_code == 200
    assert '<h2 id="hello">' in response.text and "<em>hi</em>" in response.text
    assert "<script>" not in response.text
    broken = editor.post(
        "/admin/content/preview", data={"text": "no front matter", "csrf_token": csrf_token(page)}
    )
    assert "Line 1: front matter must start" in broken.text
    assert editor.post("/admin/content/preview", data={"text": "x"}).status_code == 400


def test_publish_now_makes_a_draft_public(
    editor: FlaskClient, client: FlaskClient, clock: Clock
) -> None:
    assert client.get("/posts/draft-idea/").status_code == 404
    form = _edit_form(editor, "/admin/content/post/draft-idea")
    assert (
        editor.post(
            "/admin/content/post/draft-idea", data={**form, "action": "publish"}
        ).status_code
        == 302
    )
    assert client.get("/posts/draft-idea/").status_code == 200


def test_schedule_sets_publish_at_and_the_post_waits(
    editor: FlaskClient, client: FlaskClient, clock: Clock, content_dir: Path
) -> None:
    form = _edit_form(editor, "/admin/content/post/draft-idea")
    moment = clock.current.replace(second=0).__add__(__import__("datetime").timedelta(days=2))
    response = editor.post(
        "/admin/content/post/draft-idea",
        data={**form, "action": "schedule", "publish_at": moment.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 302
    text = (content_dir / "posts" / "draft-idea.md").read_text()
    assert f"publish_at: {moment:%Y-%m-%d %H:%M}" in text and "draft:" not in text
    assert client.get("/posts/draft-idea/").status_code == 404
    clock.advance(days=3)
    assert client.get("/posts/draft-idea/").status_code == 200
    past = _edit_form(editor, "/admin/content/post/draft-idea")
    refused = editor.post(
        "/admin/content/post/draft-idea",
        data={**past, "action": "schedule", "publish_at": "2001-01-01T00:00"},
    )
    assert refused.status_code == 400 and "Choose a moment in the future" in refused.text


def test_the_schedule_is_typed_and_shown_on_the_editors_own_clock(
    app: Flask, editor: FlaskClient, clock: Clock, content_dir: Path
) -> None:
    from sqlalchemy import update

    from app.accounts.models import Member
    from app.extensions import db
    from app.web.times import wall_clock

    with app.app_context():  # India keeps one offset all year: +05:30, "IST"
        db.session.execute(
            update(Member)
            .where(Member.email == "editor@example.com")
            .values(time_zone="Asia/Kolkata")
        )
        db.session.commit()
    url = "/admin/content/post/draft-idea"
    assert "On your clock (Asia/Kolkata" in editor.get(url).text
    local = wall_clock(clock.current + timedelta(days=2), "Asia/Kolkata").replace(
        second=0, microsecond=0
    )
    response = editor.post(
        url,
        data={
            **_edit_form(editor, url),
            "action": "schedule",
            "publish_at": f"{local:%Y-%m-%dT%H:%M}",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    in_utc = local - timedelta(hours=5, minutes=30)
    assert (
        f"publish_at: {in_utc:%Y-%m-%d %H:%M}"
        in (content_dir / "posts" / "draft-idea.md").read_text()
    )
    assert f"Scheduled for {local.day} {local:%B %Y, %H:%M} IST." in response.text
    # the form shows the moment set, on the same clock, ready to move
    assert f'value="{local:%Y-%m-%dT%H:%M}"' in response.text
    clock.advance(days=3)
    assert f'value="{local:%Y-%m-%dT%H:%M}"' not in editor.get(url).text  # gone by: empty again


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 20)).save(buffer, "PNG")
    return buffer.getvalue()


def test_an_uploaded_image_is_reencoded_in_responsive_sizes(
    editor: FlaskClient, content_dir: Path
) -> None:
    page = editor.get("/admin/content/post/ledger").text
    response = editor.post(
        "/admin/content/post/ledger/images",
        data={
            "csrf_token": csrf_token(page),
            "alt": "An orange square",
            "image": (io.BytesIO(_png(1200, 800)), "Orange Square.png"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Uploaded in widths 480, 960, 1200" in response.text
    files = sorted(p.name for p in (content_dir / "images").iterdir())
    assert len(files) == 3 and all(
        re.match(r"orange-square-[0-9a-f]{6}-\d+\.webp$", f) for f in files
    )
    with Image.open(content_dir / "images" / files[1]) as image:
        assert image.format == "WEBP" and image.size == (480, 320)
    snippet = re.search(r"!\[An orange square\]\((/images/[^)]+-960\.webp)\)", response.text)
    assert snippet


@pytest.mark.parametrize(
    ("payload", "name", "message"),
    [
        (b"not an image at all", "x.png", "not a JPEG, PNG, WebP or GIF"),
        (b"", "empty.png", "The file is empty"),
        (b"%PDF-1.4\n", "doc.pdf", "not a JPEG, PNG, WebP or GIF"),
    ],
)
def test_a_bad_upload_is_refused_and_nothing_is_written(
    editor: FlaskClient, content_dir: Path, payload: bytes, name: str, message: str
) -> None:
    page = editor.get("/admin/content/post/ledger").text
    response = editor.post(
        "/admin/content/post/ledger/images",
        data={"csrf_token": csrf_token(page), "alt": "x", "image": (io.BytesIO(payload), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and message in response.text
    assert not (content_dir / "images").exists() or not list((content_dir / "images").iterdir())


def test_an_image_with_too_many_pixels_is_refused(tmp_path: Path) -> None:
    from app.site.errors import ImageRejected
    from app.site.images import save_upload

    buffer = io.BytesIO()
    Image.new("1", (9000, 9000)).save(buffer, "PNG")
    with pytest.raises(ImageRejected, match="million pixels"):
        save_upload(buffer.getvalue(), "huge.png", tmp_path)
    assert not tmp_path.joinpath("huge").exists() and list(tmp_path.iterdir()) == []


def test_unknown_files_and_kinds_are_404(editor: FlaskClient) -> None:
    assert editor.get("/admin/content/post/nope").status_code == 404
    assert editor.get("/admin/content/secret/ledger").status_code == 404
    assert editor.get("/admin/content/post/..%2Fsite").status_code == 404


def test_an_upload_over_the_size_limit_is_refused(
    editor: FlaskClient, content_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.admin import editor as screens
    from app.site import images

    monkeypatch.setattr(images, "MAX_UPLOAD_BYTES", 2_000)  # a small limit keeps the test fast
    monkeypatch.setattr(screens, "MAX_UPLOAD_BYTES", 2_000)
    page = editor.get("/admin/content/post/ledger").text
    response = editor.post(
        "/admin/content/post/ledger/images",
        data={
            "csrf_token": csrf_token(page),
            "alt": "x",
            "image": (io.BytesIO(_png(10, 10) + b"\0" * 5_000), "big.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "the limit is 2,000" in response.text
    assert not (content_dir / "images").exists()
