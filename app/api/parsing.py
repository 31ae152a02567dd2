"""Reading a request to the API through its schemas: the JSON body, the query string and
headers. Each failure is a problem: 415 for a body that is not JSON, 413 for one over
:data:`MAX_BODY`, 400 for malformed JSON, a bad query or header, 422 for a body that breaks
its schema (with ``errors`` naming each field)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import request
from marshmallow import Schema, ValidationError

from app.api.errors import (
    BadRequest,
    NotFound,
    PayloadTooLarge,
    Unprocessable,
    UnsupportedMediaType,
)

MAX_BODY = 16 * 1024


def _messages(error: ValidationError) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            found.setdefault(prefix or "_body", []).extend(value)
        else:
            found.setdefault(prefix or "_body", []).append(str(value))

    walk("", error.messages)
    return found


def raw_body() -> bytes:
    """The request's body, at most :data:`MAX_BODY` bytes (:class:`PayloadTooLarge` past it)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise PayloadTooLarge(f"The body may hold at most {MAX_BODY:,} bytes.")
    data = request.stream.read(MAX_BODY + 1)
    if len(data) > MAX_BODY:
        raise PayloadTooLarge(f"The body may hold at most {MAX_BODY:,} bytes.")
    return data


def json_body(schema: Schema, data: bytes) -> dict[str, Any]:
    """``data`` (the raw body) parsed as JSON and loaded through ``schema``. An empty body is
    an empty object, so that every field takes its default."""
    mimetype = request.mimetype
    if data and mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType("Send the body as application/json.")
    try:
        value = json.loads(data) if data else {}
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise Unprocessable("The body must be a JSON object.", {"_body": ["Expected an object."]})
    try:
        loaded: dict[str, Any] = schema.load(value)
    except ValidationError as exc:
        raise Unprocessable("The body breaks the operation's schema.", _messages(exc)) from None
    return loaded


def query(schema: Schema) -> dict[str, Any]:
    """The query string loaded through ``schema`` (each parameter once)."""
    values = {name: request.args.getlist(name) for name in request.args}
    repeated = [name for name, found in values.items() if len(found) > 1]
    if repeated:
        raise BadRequest(
            "A query parameter was given twice.", {n: ["Give it once."] for n in repeated}
        )
    try:
        loaded: dict[str, Any] = schema.load({k: v[0] for k, v in values.items()})
    except ValidationError as exc:
        raise BadRequest(
            "The query string breaks the operation's schema.", _messages(exc)
        ) from None
    return loaded


def headers(schema: Schema) -> dict[str, Any]:
    """The headers ``schema`` names, loaded through it (others are ignored)."""
    wanted = {f.data_key or name for name, f in schema.fields.items()}
    present = {name: request.headers[name] for name in wanted if name in request.headers}
    try:
        loaded: dict[str, Any] = schema.load(present)
    except ValidationError as exc:
        raise BadRequest("A header is missing or malformed.", _messages(exc)) from None
    return loaded


def path(schema: Schema, values: Mapping[str, Any], missing: str) -> dict[str, Any]:
    """The path's values loaded through ``schema``; one that does not fit names nothing that
    exists, so it is a 404 with ``missing`` as detail."""
    try:
        loaded: dict[str, Any] = schema.load(dict(values))
    except ValidationError:
        raise NotFound(missing) from None
    return loaded
