"""Rate limits on sign-in, reset and sign-in-link requests, per IP and per account."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.accounts.models import Member
from tests.helpers import csrf_token


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    app_config["RATELIMIT_AUTH_ACCOUNT"] = "5 per minute"
    app_config["RATELIMIT_AUTH_IP"] = "8 per minute"
    return app_config


def _attempt(client: FlaskClient, token: str, email: str, ip: str = "198.51.100.7") -> int:
    response = client.post(
        "/signin",
        data={"csrf_token": token, "email": email, "password": "guess guess guess"},
        environ_base={"REMOTE_ADDR": ip},
    )
    return response.status_code


def test_sign_in_trips_after_five_attempts_on_one_account(
    client: FlaskClient, member: Member
) -> None:
    token = csrf_token(client.get("/signin").text)
    codes = [_attempt(client, token, "reader@example.com", ip=f"198.51.100.{i}") for i in range(7)]
    assert codes[:5] == [200] * 5
    assert codes[5:] == [429, 429]
    page = client.post(
        "/signin",
        data={"csrf_token": token, "email": "READER@example.com", "password": "x" * 12},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert page.status_code == 429
    assert "Too many attempts" in page.text and "site-header" in page.text


def test_one_ip_trips_across_many_accounts_and_endpoints(client: FlaskClient) -> None:
    token = csrf_token(client.get("/signin").text)
    codes = [_attempt(client, token, f"user{i}@example.com") for i in range(6)]
    codes.append(
        client.post(
            "/reset",
            data={"csrf_token": token, "email": "z@example.com"},
            environ_base={"REMOTE_ADDR": "198.51.100.7"},
        ).status_code
    )
    codes.append(
        client.post(
            "/signin/link",
            data={"csrf_token": token, "email": "y@example.com"},
            environ_base={"REMOTE_ADDR": "198.51.100.7"},
        ).status_code
    )
    assert 429 not in codes
    assert _attempt(client, token, "last@example.com") == 429
    assert _attempt(client, token, "last@example.com", ip="192.0.2.1") == 200


def test_limits_do_not_apply_to_reading_the_form(app: Flask, client: FlaskClient) -> None:
    assert all(client.get("/signin").status_code == 200 for _ in range(12))
