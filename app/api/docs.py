"""The public face of the API: its OpenAPI document, the docs page rendered from that same
document (server-side, no script), and the answer to any other path under /api/ (a 404
problem, or a 405 problem naming the methods a known path takes)."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from app.api.errors import BY_STATUS, MethodNotAllowed, NotFound
from app.api.keys import PERMISSION_HELP, Permission
from app.api.openapi import document
from app.api.operations import OPERATIONS
from app.api.rest_views import json_response

CATCH_ALL = "api.nowhere"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def openapi_json() -> Response:
    response = json_response(document(current_app.config["BASE_URL"]))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _schema_rows(spec: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The fields of a schema (following one ``$ref``), for the page's tables."""
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    required = set(schema.get("required", []))
    rows = []
    for name, field in schema.get("properties", {}).items():
        kind = field.get("type", "object")
        if "$ref" in field:
            kind = field["$ref"].rsplit("/", 1)[-1]
        elif kind == "array" and "$ref" in field.get("items", {}):
            kind = f"array of {field['items']['$ref'].rsplit('/', 1)[-1]}"
        elif isinstance(kind, list):
            kind = " or ".join(str(k) for k in kind)
        rows.append(
            {
                "name": name,
                "type": kind,
                "required": name in required,
                "description": field.get("description", ""),
                "example": field.get("example"),
            }
        )
    return rows


def _curl(base: str, method: str, path: str, op: dict[str, Any]) -> str:
    declared = next((o for o in OPERATIONS if o.name == op.get("operationId")), None)
    target = f"{base}{declared.example_path if declared and declared.example_path else path}"
    lines = [f"curl -X {method.upper()} '{target}'"]
    if op.get("security"):
        lines.append("  -H 'Authorization: Bearer pf_xxxxxxxx_…'")
    if declared is not None and declared.headers is not None:
        lines.append("  -H 'Idempotency-Key: till-7-receipt-0042'")
    if declared is not None and declared.example_body is not None:
        lines.append("  -H 'Content-Type: application/json'")
        lines.append(f"  -d '{declared.example_body}'")
    return " \\\n".join(lines)


def docs_page() -> str:
    spec = document(current_app.config["BASE_URL"])
    base = spec["servers"][0]["url"]
    operations = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            answers = []
            for status, answer in op["responses"].items():
                problem = BY_STATUS[int(status)] if "$ref" in answer else None
                answers.append(
                    {
                        "status": status,
                        "description": problem.title if problem else answer["description"],
                        "problem": problem.name if problem else None,
                    }
                )
            operations.append(
                {
                    "id": op["operationId"],
                    "method": method.upper(),
                    "path": path,
                    "summary": op["summary"],
                    "description": op["description"],
                    "permission": op.get("x-permission"),
                    "parameters": op.get("parameters", []),
                    "body": _schema_rows(spec, body["schema"]) if body else [],
                    "answers": answers,
                    "curl": _curl(base, method, path, op),
                }
            )
    schemas = {
        name: _schema_rows(spec, schema)
        for name, schema in sorted(spec["components"]["schemas"].items())
    }
    problems = [
        {
            "status": status,
            "name": cls.name,
            "title": cls.title,
            "headers": list(spec["components"]["responses"][f"Problem{status}"].get("headers", {})),
        }
        for status, cls in sorted(BY_STATUS.items())
    ]
    return render_template(
        "api/docs.html",
        spec=spec,
        base=base,
        operations=operations,
        schemas=schemas,
        problems=problems,
        permissions=[(str(p), PERMISSION_HELP[p]) for p in Permission],
    )


def _allowed_methods() -> list[str]:
    """The methods an operation of the API takes at this request's path."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in METHODS:
        try:
            endpoint, _ = adapter.match(method=method)
        except (HTTPException, RequestRedirect):
            continue
        if endpoint.startswith("api.") and endpoint != CATCH_ALL:
            allowed.append(method)
    return allowed


def nowhere(rest: str = "") -> Response:
    """Any path under /api/ that no operation answers for this method."""
    allowed = _allowed_methods()
    if allowed:
        raise MethodNotAllowed(request.method, allowed)
    raise NotFound("There is nothing at this address. The operations are listed at /api/docs.")
