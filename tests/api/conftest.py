"""Fixtures of the JSON API's tests: keys made through the domain, a batch to mint into, and
clients signed in with each staff role."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Clock
from tests.security.harness import staff_client

ALL = ("codes:mint", "actions:record", "consent:read", "members:read", "campaigns:read")

MakeKey = Callable[..., str]


@pytest.fixture
def make_key(app: Flask, clock: Clock) -> MakeKey:
    """``make_key(permissions=ALL, rate_limit=120, name="Till")`` → the key, in clear."""

    def make(permissions: Iterable[str] = ALL, rate_limit: int = 120, name: str = "Till") -> str:
        from app.api.keys import create_key
        from app.extensions import db

        with app.app_context():
            made = create_key(name, permissions, rate_limit, created_by=None, now=clock())
            db.session.commit()
            return made.secret

    return make


@pytest.fixture
def key(make_key: MakeKey) -> str:
    return make_key()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def batch(app: Flask, clock: Clock) -> str:
    """A batch ``spring-store`` (one use per code, valid 30 days) with one code in it."""
    from app.engage.redemption import issue_codes
    from app.extensions import db

    with app.app_context():
        issue_codes("spring-store", 1, now=clock(), expires_at=clock() + timedelta(days=30))
        db.session.commit()
    return "spring-store"


@pytest.fixture
def admin(app: Flask, clock: Clock) -> FlaskClient:
    return staff_client(app, clock, "admin")


def problem(response: Any) -> dict[str, Any]:
    """The problem body of ``response``, checked for the RFC 9457 shape."""
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json(force=True)
    assert body["status"] == response.status_code
    for member in ("type", "title", "detail", "instance"):
        assert isinstance(body[member], str) and body[member], member
    assert body["type"].startswith("http://localhost/api/docs#problem-")
    return body
