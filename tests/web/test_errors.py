"""Error pages keep the layout."""

from __future__ import annotations

import pytest
from flask import Flask, abort

from tests.helpers import post_form


@pytest.fixture
def app(app: Flask) -> Flask:
    @app.route("/_test/abort/<int:code>")
    def _abort(code: int) -> str:
        abort(code)

    @app.route("/_test/crash")
    def _crash() -> str:
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


@pytest.mark.parametrize(
    ("code", "title"),
    [
        (400, "Bad request"),
        (403, "Not allowed"),
        (404, "Not found"),
        (429, "Slow down"),
    ],
)
def test_error_pages_keep_the_layout(app: Flask, code: int, title: str) -> None:
    response = app.test_client().get(f"/_test/abort/{code}")
    assert response.status_code == code
    html = response.text
    assert f"<h1>{title}</h1>" in html
    assert 'class="site-header"' in html and 'class="site-footer"' in html
    assert response.headers["Content-Security-Policy"]


def test_an_unexpected_error_is_a_500_page_without_a_trace(app: Flask) -> None:
    response = app.test_client().get("/_test/crash")
    assert response.status_code == 500
    assert "Something went wrong" in response.text and "boom" not in response.text
    assert "Traceback" not in response.text


def test_unknown_address_is_a_404_page(app: Flask) -> None:
    response = app.test_client().get("/no/such/page")
    assert response.status_code == 404 and "site-footer" in response.text


def test_csrf_failure_is_a_400_page_with_a_message(app: Flask) -> None:
    client = app.test_client()
    post_form(client, "/signin", {"email": "a@example.com", "password": "x" * 12})
    response = client.post("/signin", data={"email": "a@example.com", "password": "x" * 12})
    assert response.status_code == 400
    assert "This form expired or came from another site" in response.text
