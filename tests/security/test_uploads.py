"""The web editor's image upload: a hostile file name never writes outside ``content/images``,
and a hostile alt text comes back escaped in the message that quotes it (and inert in
Chromium, for a sample joined to the 200 characters the field takes)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from playwright.sync_api import Page

from tests.conftest import PASSWORD, REPO, Clock
from tests.helpers import csrf_token, sign_in
from tests.security.harness import make_member, sign_in_page
from tests.security.inert import assert_inert
from tests.security.payloads import xss_payloads

EDIT = "/admin/content/post/consent-ledger"
NAMES = [
    "../../escaped.png",
    "..\\..\\escaped.png",
    "/tmp/escaped.png",
    "%2e%2e%2fescaped.png",
    "....//....//escaped.png",
    "escaped.png\x00.txt",
    "C:\\escaped.png",
    "../" * 30 + "etc/escaped.png",
    ".htaccess",
    "..",
    "",
    "a" * 300 + ".png",
]


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    shutil.copytree(REPO / "content", tmp_path / "site" / "content")
    app_config.update(CONTENT_DIR=str(tmp_path / "site" / "content"), RATELIMIT_ENABLED=False)
    return app_config


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 40)).save(out, "PNG")
    return out.getvalue()


def _editor(app: Flask, clock: Clock) -> FlaskClient:
    make_member(app, clock, "editor@example.com", role="editor")
    client = app.test_client()
    sign_in(client, "editor@example.com", PASSWORD)
    return client


def _upload(client: FlaskClient, filename: str, alt: str) -> tuple[int, str]:
    token = csrf_token(client.get(EDIT).get_data(as_text=True))
    response = client.post(
        f"{EDIT}/images",
        content_type="multipart/form-data",
        data={"csrf_token": token, "alt": alt, "image": (io.BytesIO(_png()), filename)},
    )
    if response.status_code == 302:
        response = client.get(response.location)
    return response.status_code, response.get_data(as_text=True)


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_hostile_file_names_stay_in_the_images_folder(
    app: Flask, clock: Clock, tmp_path: Path
) -> None:
    client = _editor(app, clock)
    images = tmp_path / "site" / "content" / "images"
    before = _files(tmp_path) - _files(images) if images.exists() else _files(tmp_path)
    accepted = 0
    for name in NAMES:
        status, _ = _upload(client, name, "A square")
        assert status in (200, 400), name  # 400: no file name at all is no file
        accepted += status == 200
    assert accepted >= len(NAMES) - 2
    outside = (_files(tmp_path) - (_files(images) if images.exists() else set())) - before
    assert {p for p in outside if "instance" not in p.parts} == set()
    saved = _files(images)
    assert saved, "the uploads were refused: the test would show nothing"
    assert all(p.parent == images and p.suffix == ".webp" for p in saved), saved


@pytest.mark.slow
def test_alt_texts_come_back_escaped(app: Flask, clock: Clock) -> None:
    client = _editor(app, clock)
    for payload in xss_payloads():
        status, html = _upload(client, "square.png", payload[:200])
        assert status in (200, 400), payload
        assert "<" not in payload or payload[:200] not in html, payload


def test_alt_texts_render_inert_in_the_browser(
    app: Flask, clock: Clock, hostile_page: Page
) -> None:
    make_member(app, clock, "editor@example.com", role="editor")
    sign_in_page(hostile_page, "editor@example.com")
    payloads = xss_payloads()
    for start in range(0, len(payloads), 25):
        alt = " ".join(payloads[start : start + 25])[:200]
        hostile_page.goto(EDIT)
        token = hostile_page.locator('input[name="csrf_token"]').first.input_value()
        sent = hostile_page.request.post(
            f"{EDIT}/images",
            multipart={
                "csrf_token": token,
                "alt": alt,
                "image": {"name": "square.png", "mimeType": "image/png", "buffer": _png()},
            },
            max_redirects=0,
        )
        assert sent.status == 302, sent.status
        hostile_page.goto(EDIT)
        assert_inert(hostile_page, "upload message", [alt])
