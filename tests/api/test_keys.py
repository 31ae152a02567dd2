"""API keys at the door: bearer keys only (never a session), hashed at rest, revocable, their
last use noted at most once a minute, their permissions and their per-minute limit enforced;
and every error under /api/ answered as an RFC 9457 problem."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.api.conftest import ALL, MakeKey, bearer, problem
from tests.conftest import Clock


def _key_row(app: Flask, prefix: str) -> Any:
    from app.api.rest_models import ApiKey
    from app.extensions import db

    with app.app_context():
        row = db.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        db.session.expunge(row)
        return row


def test_only_the_hash_of_a_key_is_stored(app: Flask, key: str) -> None:
    prefix = key[: len("pf_") + 8]
    row = _key_row(app, prefix)
    import hashlib

    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    from app.api.rest_models import ApiKey
    from app.extensions import db

    with app.app_context():
        for column in ApiKey.__table__.columns:
            values = db.session.scalars(select(column)).all()
            assert all(key not in str(v) for v in values), column.name


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "Send an API key"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "Send an API key"),
        ({"Authorization": "Bearer "}, "Send an API key"),
        ({"Authorization": "Bearer not-a-key"}, "not a Pullfirst API key"),
        ({"Authorization": "Bearer pf_00000000_" + "A" * 43}, "not known"),
    ],
)
def test_no_key_or_a_bad_key_is_a_401_problem(
    client: FlaskClient, key: str, headers: dict[str, str], detail: str
) -> None:
    response = client.get("/api/v1/campaigns", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert detail in problem(response)["detail"]


def test_a_session_cookie_alone_is_never_enough(admin: FlaskClient, key: str, batch: str) -> None:
    # An administrator signed in to the site holds no API permission in the same browser.
    for method, path in (
        ("GET", "/api/v1/campaigns"),
        ("GET", "/api/v1/members/admin@example.com"),
        ("POST", "/api/v1/actions"),
        ("POST", "/api/v1/batches/spring-store/codes"),
    ):
        response = admin.open(path, method=method, json={}, headers={"Idempotency-Key": "a"})
        assert response.status_code == 401, (path, response.status_code)
        assert problem(response)
    # And an API answer never sets a cookie.
    answer = admin.get("/api/v1/campaigns", headers=bearer(key))
    assert answer.status_code == 200 and "Set-Cookie" not in answer.headers


def test_a_revoked_key_gets_401(app: Flask, client: FlaskClient, key: str, clock: Clock) -> None:
    from app.api.keys import authenticate, revoke_key
    from app.extensions import db

    assert client.get("/api/v1/campaigns", headers=bearer(key)).status_code == 200
    with app.app_context():
        assert revoke_key(authenticate(key), clock()) is True
        db.session.commit()
    response = client.get("/api/v1/campaigns", headers=bearer(key))
    assert response.status_code == 401 and "revoked" in problem(response)["detail"]


def test_last_use_is_written_at_most_once_a_minute(
    app: Flask, client: FlaskClient, key: str, clock: Clock
) -> None:
    prefix = key[:11]
    assert _key_row(app, prefix).last_used_at is None
    first = clock()
    client.get("/api/v1/campaigns", headers=bearer(key))
    assert _key_row(app, prefix).last_used_at == first
    clock.advance(seconds=30)
    client.get("/api/v1/campaigns", headers=bearer(key))
    assert _key_row(app, prefix).last_used_at == first
    clock.advance(seconds=31)
    client.get("/api/v1/campaigns", headers=bearer(key))
    assert _key_row(app, prefix).last_used_at == clock()


@pytest.mark.parametrize(
    ("permission", "method", "path"),
    [
        ("codes:mint", "POST", "/api/v1/batches/spring-store/codes"),
        ("actions:record", "POST", "/api/v1/actions"),
        ("members:read", "GET", "/api/v1/members/reader@example.com"),
        ("members:read", "GET", "/api/v1/members?email=reader@example.com"),
        ("consent:read", "GET", "/api/v1/members/reader@example.com/consent"),
        ("campaigns:read", "GET", "/api/v1/campaigns"),
        ("campaigns:read", "GET", "/api/v1/campaigns/1"),
    ],
)
def test_a_key_without_the_permission_gets_403_naming_it(
    app: Flask,
    client: FlaskClient,
    make_key: MakeKey,
    member: object,
    batch: str,
    permission: str,
    method: str,
    path: str,
) -> None:
    from app.engage.models import Code
    from app.extensions import db

    key = make_key([p for p in ALL if p != permission])
    with app.app_context():
        before = len(db.session.scalars(select(Code.id)).all())
    response = client.open(
        path,
        method=method,
        json={"email": "reader@example.com", "action": "purchase:sku-1", "count": 1},
        headers={**bearer(key), "Idempotency-Key": "p"},
    )
    assert response.status_code == 403
    body = problem(response)
    assert body["permission"] == permission and permission in body["detail"]
    with app.app_context():
        assert len(db.session.scalars(select(Code.id)).all()) == before


def test_over_the_keys_limit_is_a_429_with_retry_after(
    client: FlaskClient, make_key: MakeKey
) -> None:
    slow, other = make_key(rate_limit=3, name="Slow till"), make_key(rate_limit=3, name="Other")
    for _ in range(3):
        assert client.get("/api/v1/campaigns", headers=bearer(slow)).status_code == 200
    # The limit is per key, over every operation.
    response = client.get("/api/v1/members/x@example.com", headers=bearer(slow))
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert "limit" in problem(response)["detail"]
    assert client.get("/api/v1/campaigns", headers=bearer(other)).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("GET", "/api/v1/nothing-here", 404, None),
        ("POST", "/api/v1/nothing-here", 404, None),
        ("DELETE", "/api/v2/campaigns", 404, None),
        ("GET", "/api/", 404, None),
        ("GET", "/api/v1/campaigns/0", 404, None),
        ("GET", "/api/v1/actions", 405, "POST"),
        ("DELETE", "/api/v1/campaigns", 405, "GET"),
        ("PUT", "/api/v1/batches/spring-store/codes", 405, "POST"),
        ("PATCH", "/api/v1/openapi.json", 405, "GET"),
    ],
)
def test_unknown_paths_and_wrong_methods_are_problems(
    client: FlaskClient, key: str, method: str, path: str, status: int, allow: str | None
) -> None:
    response = client.open(path, method=method, headers=bearer(key))
    assert response.status_code == status
    body = problem(response)
    assert body["instance"] == path
    if allow is not None:
        assert response.headers["Allow"] == allow


def test_a_nul_in_the_path_is_a_problem_too(client: FlaskClient, key: str) -> None:
    response = client.get("/api/v1/members/a%00b", headers=bearer(key))
    assert response.status_code == 400 and problem(response)


def test_a_failure_of_ours_is_a_500_problem(
    app: Flask, client: FlaskClient, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.api import campaign_results

    def broken(limit: int, cursor: str | None) -> dict[str, object]:
        raise RuntimeError("the database fell over")

    monkeypatch.setattr(campaign_results, "campaign_page", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/api/v1/campaigns", headers=bearer(key))
    assert response.status_code == 500
    body = problem(response)
    assert "database" not in body["detail"]
