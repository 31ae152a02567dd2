"""Admin → API keys: administrators only; a new key shown once, with a warning; revoking after
a confirmation; CSRF on both forms."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.conftest import bearer
from tests.conftest import Clock
from tests.helpers import csrf_token, post_form
from tests.security.harness import staff_client

KEY = re.compile(r"pf_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


def make(admin: FlaskClient, **fields: object):
    data: dict[str, object] = {
        "name": "Shop till 3",
        "permissions": ["codes:mint", "campaigns:read"],
        "rate_limit": 60,
    }
    data.update(fields)
    return post_form(admin, "/admin/api-keys/", data)


def test_a_new_key_is_shown_once_and_works(admin: FlaskClient, client: FlaskClient) -> None:
    response = make(admin)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "shown only this once" in page
    secret = KEY.search(page)
    assert secret is not None
    listing = admin.get("/admin/api-keys/").get_data(as_text=True)
    assert "Shop till 3" in listing and secret.group(0)[:11] in listing
    assert secret.group(0) not in listing  # never shown again
    assert "codes:mint" in listing and ">60<" in listing and "never" in listing
    key = bearer(secret.group(0))
    assert client.get("/api/v1/campaigns", headers=key).status_code == 200
    assert client.get("/api/v1/members?email=a@b.c", headers=key).status_code == 403


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "Name the key."),
        ({"permissions": []}, "Give the key at least one permission."),
        ({"permissions": ["consent:write"]}, "is not a valid choice"),
        ({"rate_limit": 0}, "Number must be between"),
    ],
)
def test_a_bad_form_makes_no_key(
    app: Flask, admin: FlaskClient, fields: dict[str, object], message: str
) -> None:
    response = make(admin, **fields)
    page = response.get_data(as_text=True)
    assert message in page and KEY.search(page) is None
    from app.api.keys import all_keys

    with app.app_context():
        assert all_keys() == []


def test_revoking_asks_first_then_the_key_gets_401(
    app: Flask, admin: FlaskClient, client: FlaskClient
) -> None:
    secret = KEY.search(make(admin).get_data(as_text=True))
    assert secret is not None
    from app.api.keys import all_keys

    with app.app_context():
        key_id = all_keys()[0].id
    confirm = admin.get(f"/admin/api-keys/{key_id}/revoke")
    assert confirm.status_code == 200 and "stops working at once" in confirm.get_data(as_text=True)
    assert client.get("/api/v1/campaigns", headers=bearer(secret.group(0))).status_code == 200
    done = post_form(admin, f"/admin/api-keys/{key_id}/revoke", {})
    assert done.status_code == 302
    assert "revoked" in admin.get("/admin/api-keys/").get_data(as_text=True)
    assert client.get("/api/v1/campaigns", headers=bearer(secret.group(0))).status_code == 401
    assert admin.get("/admin/api-keys/999/revoke").status_code == 404


def test_the_forms_need_the_sessions_csrf_token(app: Flask, admin: FlaskClient) -> None:
    from app.api.keys import all_keys

    response = admin.post(
        "/admin/api-keys/",
        data={"name": "Forged", "permissions": ["codes:mint"], "rate_limit": 60},
    )
    assert response.status_code == 400
    secret = KEY.search(make(admin).get_data(as_text=True))
    assert secret is not None
    with app.app_context():
        key_id = all_keys()[0].id
    forged = admin.post(f"/admin/api-keys/{key_id}/revoke", data={"csrf_token": "forged"})
    assert forged.status_code == 400
    with app.app_context():
        assert [k.name for k in all_keys()] == ["Shop till 3"]
        assert all_keys()[0].revoked_at is None


@pytest.mark.parametrize("role", ["marketer", "editor", "member"])
def test_only_administrators_reach_the_screens(app: Flask, clock: Clock, role: str) -> None:
    client = staff_client(app, clock, role)
    assert client.get("/admin/api-keys/").status_code == 403
    token = csrf_token(client.get("/me/account").get_data(as_text=True))
    response = client.post(
        "/admin/api-keys/",
        data={"csrf_token": token, "name": "X", "permissions": ["codes:mint"], "rate_limit": 5},
    )
    assert response.status_code == 403
    assert client.get("/admin/api-keys/1/revoke").status_code == 403
    dashboard = client.get("/admin/")
    assert "API keys" not in dashboard.get_data(as_text=True)


def test_the_dashboard_lists_the_section_for_admins(admin: FlaskClient) -> None:
    page = admin.get("/admin/").get_data(as_text=True)
    assert "API keys" in page and "/admin/api-keys/" in page


def test_a_visitor_is_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/admin/api-keys/")
    assert response.status_code == 302 and "/signin" in response.location
