"""Schemathesis against the OpenAPI document the app serves: every operation, with generated
requests (derandomized, so a run is repeatable), through the app itself.

- With a key holding every permission: no 5xx; the status, content type, headers and body of
  each answer conform to the document; requests that break the document are refused (4xx).
- With no key: every protected operation answers 401 (the document itself stays public).
- For each permission, with a key lacking only it: that permission's operations answer 403,
  the others never do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import ALL, MakeKey
from tests.conftest import Clock

CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
Expect = Callable[[Any, APIOperation], None]


@pytest.fixture
def world(app: Flask, clock: Clock, member: Any, batch: str) -> None:
    """Something for the generated requests to find: a member, a batch, a campaign."""
    from app.extensions import db
    from app.notify.campaigns import Draft, create_campaign

    with app.app_context():
        create_campaign(Draft("Hello", "Hi.", "newsletter", "editorial", ("inbox",)), None, clock())
        db.session.commit()


def _operations(app: Flask) -> list[APIOperation]:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def _permission(operation: APIOperation) -> str | None:
    value = operation.definition.raw.get("x-permission")
    return str(value) if value is not None else None


def _run(
    operation: APIOperation,
    key: str | None,
    expect: Expect,
    *,
    examples: int,
    mode: GenerationMode = GenerationMode.POSITIVE,
    checks: list[Any] | None = None,
    **fixed: Any,
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def exercise(case: Any) -> None:
        headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        case.headers = headers
        response = case.call()
        case.validate_response(response, checks=checks or CONFORMANCE)
        expect(response, operation)

    exercise()


def _anything(response: Any, operation: APIOperation) -> None:
    pass


def _collector(seen: set[int]) -> Expect:
    def note(response: Any, operation: APIOperation) -> None:
        seen.add(response.status_code)

    return note


@pytest.mark.slow
def test_every_operation_conforms_with_a_full_key(
    app: Flask, world: None, make_key: MakeKey
) -> None:
    key = make_key(ALL, rate_limit=10_000)
    for operation in _operations(app):
        seen: set[int] = set()
        note = _collector(seen)

        _run(operation, key, note, examples=20)
        body = operation.definition.raw.get("requestBody", {}).get("content", {})
        example = body.get("application/json", {}).get("example")
        if example is not None:  # the documented body, with generated headers and path
            _run(operation, key, note, examples=5, body=example)
        # The document's examples name things that exist: each operation succeeded at least once.
        assert seen & {200, 201}, (operation.label, seen)
        _run(
            operation,
            key,
            _anything,
            examples=10,
            mode=GenerationMode.NEGATIVE,
            checks=[*CONFORMANCE, negative_data_rejection],
        )


def test_every_protected_operation_answers_401_without_a_key(app: Flask, world: None) -> None:
    def unauthenticated(response: Any, operation: APIOperation) -> None:
        expected = 200 if _permission(operation) is None else 401
        assert response.status_code == expected, (operation.label, response.status_code)

    for operation in _operations(app):
        _run(operation, None, unauthenticated, examples=5)


@pytest.mark.parametrize("missing", ALL)
def test_a_key_lacking_one_permission_gets_403_for_exactly_its_operations(
    app: Flask, world: None, make_key: MakeKey, missing: str
) -> None:
    key = make_key([p for p in ALL if p != missing], rate_limit=10_000)

    def forbidden(response: Any, operation: APIOperation) -> None:
        if _permission(operation) == missing:
            assert response.status_code == 403, (operation.label, response.status_code)
            assert response.json()["permission"] == missing
        else:
            assert response.status_code != 403, operation.label

    operations = _operations(app)
    assert any(_permission(op) == missing for op in operations)
    for operation in operations:
        _run(operation, key, forbidden, examples=5)
