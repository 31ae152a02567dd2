"""The stylesheet and icons are linked under a URL that names their content, kept for a year under
that URL, and revalidated under any other."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.web.assets import content_digest

STATIC = Path(__file__).resolve().parents[2] / "app" / "static"


def _fetch(client: FlaskClient, url: str, **kwargs: Any) -> TestResponse:
    """GET ``url`` and close the file the response streams from."""
    response = client.get(url, **kwargs)
    response.get_data()
    response.close()
    return response


def _linked(html: str, filename: str) -> str:
    match = re.search(rf'href="(/static/{re.escape(filename)}\?v=[0-9a-f]+)"', html)
    assert match, f"{filename} is not linked with its digest"
    return match.group(1)


def test_pages_link_the_stylesheet_by_its_content(client: FlaskClient) -> None:
    url = _linked(client.get("/").text, "pullfirst.css")
    expected = hashlib.sha256((STATIC / "pullfirst.css").read_bytes()).hexdigest()[:12]
    assert url == f"/static/pullfirst.css?v={expected}"
    assert _linked(client.get("/signin").text, "favicon.svg")


def test_the_named_content_is_kept_for_a_year(client: FlaskClient) -> None:
    url = _linked(client.get("/").text, "pullfirst.css")
    response = _fetch(client, url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    again = _fetch(client, url, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert again.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_an_old_or_missing_digest_is_revalidated(client: FlaskClient) -> None:
    for url in (
        "/static/pullfirst.css",
        "/static/pullfirst.css?v=0123456789ab",
        "/static/pullfirst.css?v=",
    ):
        response = _fetch(client, url)
        assert response.status_code == 200
        assert "immutable" not in response.headers["Cache-Control"], url
        assert "no-cache" in response.headers["Cache-Control"], url
    assert _fetch(client, "/static/nothing-here.css?v=0123456789ab").status_code == 404


def test_a_changed_file_gets_a_new_digest(tmp_path: Path) -> None:
    style = tmp_path / "site.css"
    style.write_text("body { color: black; }")
    first = content_digest(str(tmp_path), "site.css")
    style.write_text("body { color: navy; }   ")
    second = content_digest(str(tmp_path), "site.css")
    assert first and second and first != second
    assert content_digest(str(tmp_path), "missing.css") is None
    assert content_digest(str(tmp_path), "../site.css") is None


def test_urls_of_files_that_do_not_exist_carry_no_digest(app: Flask) -> None:
    from flask import url_for

    with app.test_request_context():
        assert url_for("static", filename="nothing-here.css") == "/static/nothing-here.css"
