"""Sweeps over every route in ``app.url_map``: CSRF on every POST, headers on every GET.

Routes added later are covered without touching this file.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from app.accounts.models import Member
from tests.conftest import PASSWORD
from tests.helpers import sign_in

# Routes that take a POST without a session on purpose: RFC 8058 one-click unsubscribe is
# authorised by the token in its URL alone, the API's operations by a bearer key (never a cookie),
# and the API's catch-all answers every method with a problem.
CSRF_EXEMPT_ENDPOINTS = {
    "notify.unsubscribe_one_click",
    "telegram.webhook",
    "api.mint_codes",
    "api.record_action",
    "api.nowhere",
}

SAMPLE_VALUES = {
    "int": 1,
    "integer": 1,
    "id": 1,
    "string": "sample",
    "path": "sample/path",
    "default": "sample",
    "channel": "email",  # a word converter matches only the members of its enum
}


def _url(app: Flask, rule: Rule) -> str:
    values: dict[str, Any] = {}
    for argument in rule.arguments - set(rule.defaults or {}):
        converter = rule._converters[argument]
        kind = type(converter).__name__.replace("Converter", "").lower()
        values[argument] = SAMPLE_VALUES.get(kind, "sample")
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def _rules(app: Flask, method: str) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if method in (r.methods or set())]


def test_every_post_route_refuses_a_request_without_a_valid_csrf_token(
    app: Flask, member: Member
) -> None:
    rules = [r for r in _rules(app, "POST") if r.endpoint not in CSRF_EXEMPT_ENDPOINTS]
    assert len(rules) >= 10
    client = app.test_client()
    sign_in(client, "reader@example.com", PASSWORD)  # CSRF must hold for members too
    for rule in rules:
        url = _url(app, rule)
        for data in ({}, {"csrf_token": "forged"}):
            response = client.post(url, data=data)
            assert response.status_code == 400, f"{rule.endpoint} {url} {response.status_code}"
            assert "This form expired or came from another site" in response.text


def test_every_get_route_sends_the_security_headers(app: Flask, member: Member) -> None:
    anonymous, signed_in = app.test_client(), app.test_client()
    sign_in(signed_in, "reader@example.com", PASSWORD)
    rules = _rules(app, "GET")
    assert len(rules) >= 10
    for client in (anonymous, signed_in):
        for rule in rules:
            response = client.get(_url(app, rule))
            csp = response.headers.get("Content-Security-Policy", "")
            assert "frame-ancestors 'none'" in csp, rule.endpoint
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp, rule.endpoint
            assert response.headers.get("X-Content-Type-Options") == "nosniff", rule.endpoint
            assert response.headers.get("Referrer-Policy"), rule.endpoint


def test_no_inline_script_in_any_page(app: Flask, client: FlaskClient) -> None:
    for rule in _rules(app, "GET"):
        response = client.get(_url(app, rule))
        if response.mimetype == "text/html":
            html = response.text
            assert "<script>" not in html and " onload=" not in html, rule.endpoint
