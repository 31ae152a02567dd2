"""The OpenAPI 3.1 document at /api/v1/openapi.json and the docs page drawn from it."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema_rs
from flask import Flask
from flask.testing import FlaskClient
from schemathesis.specs.openapi.definitions import OPENAPI_31


def _walk(value: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(value, dict):
        found.append(value)
        for inner in value.values():
            found.extend(_walk(inner))
    elif isinstance(value, list):
        for inner in value:
            found.extend(_walk(inner))
    return found


def test_the_document_is_valid_openapi_3_1(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    jsonschema_rs.validator_for(OPENAPI_31).validate(document)
    # 3.1 says "null" in a type list; the 3.0 keyword "nullable" must not appear.
    assert not [node for node in _walk(document) if "nullable" in node or "x-nullable" in node]
    mint = document["components"]["schemas"]["MintResponse"]["properties"]["expires_at"]
    assert mint["type"] == ["string", "null"]


def test_every_route_is_documented_with_its_permission_and_problems(
    app: Flask, client: FlaskClient
) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    documented = {
        (method.upper(), "/api/v1" + path)
        for path, methods in document["paths"].items()
        for method in methods
    }
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.nowhere":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            served.add((method, path))
    assert documented == served
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            if path == "/openapi.json":
                assert op["security"] == []
                continue
            assert op["security"] == [{"apiKey": []}], (method, path)
            assert op["x-permission"] in op["description"]
            for status in ("401", "403", "429", "500"):
                assert status in op["responses"], (method, path, status)
            problem = document["components"]["responses"]["Problem401"]
            assert "application/problem+json" in problem["content"]


def test_the_docs_page_shows_each_operation_with_a_curl_example(client: FlaskClient) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    document = client.get("/api/v1/openapi.json").get_json()
    for path, methods in document["paths"].items():
        for method in methods:
            assert f"{method.upper()} {path}" in page
    assert page.count("curl -X") == sum(len(m) for m in document["paths"].values())
    for name in ("codes:mint", "actions:record", "consent:read", "members:read", "campaigns:read"):
        assert name in page
    for anchor in ("problem-unauthenticated", "problem-permission-missing", "problem-not-found"):
        assert f'id="{anchor}"' in page
    assert "<script" not in page.split("</header>", 1)[-1].split("<footer", 1)[0]
    assert "https://cdn" not in page and "unpkg" not in page
    assert "Content-Security-Policy" in response.headers


def test_problem_types_point_at_the_docs_page(client: FlaskClient) -> None:
    body = json.loads(client.get("/api/v1/campaigns").get_data(as_text=True))
    assert body["type"] == "http://localhost/api/docs#problem-unauthenticated"
