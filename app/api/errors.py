"""Errors of the JSON API, each answered as an RFC 9457 problem (``application/problem+json``)::

    ApiProblem                 a request to /api/ that cannot be answered as asked
    ├── BadRequest             400 malformed JSON, query or header (``errors`` names the fields)
    ├── Unauthenticated        401 no key, an unknown key or a revoked key
    ├── PermissionMissing      403 the key lacks the permission the operation needs
    ├── NotFound               404 no such path, batch, member or campaign
    ├── MethodNotAllowed       405 the path takes other methods (``allowed`` lists them)
    ├── Conflict               409 an expired batch, or the same Idempotency-Key still in flight
    ├── PayloadTooLarge        413 a body over the API's limit
    ├── UnsupportedMediaType   415 a body that is not application/json
    ├── Unprocessable          422 a body that breaks the schema, or an Idempotency-Key reused
    │                              with another body
    ├── TooManyRequests        429 over the key's requests per minute (``retry_after`` seconds)
    └── ServerError            500 a failure of ours, logged

    ApiKeyError                an API key cannot be made as asked (the admin screen's message)

Each class carries its status, its problem ``name`` (the anchor of its ``type`` URI on
``/api/docs``) and a title; ``detail`` says what happened to this request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class ApiProblem(Exception):
    """Base class: ``status``, ``name`` and ``title`` are the same for every problem of a class;
    ``detail`` and ``errors`` (field name -> messages) are about this request."""

    status = 400
    name = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        errors: Mapping[str, Sequence[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = {k: list(v) for k, v in (errors or {}).items()}
        self.headers = dict(headers or {})


class BadRequest(ApiProblem):
    pass


class Unauthenticated(ApiProblem):
    status = 401
    name = "unauthenticated"
    title = "An API key is needed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="pullfirst-api"'})


class PermissionMissing(ApiProblem):
    status = 403
    name = "permission-missing"
    title = "The key lacks a permission"

    def __init__(self, permission: str) -> None:
        super().__init__(
            f"This operation needs the permission {permission}, which this key does not hold."
        )
        self.permission = permission


class NotFound(ApiProblem):
    status = 404
    name = "not-found"
    title = "Not found"


class MethodNotAllowed(ApiProblem):
    status = 405
    name = "method-not-allowed"
    title = "Method not allowed"

    def __init__(self, method: str, allowed: Sequence[str]) -> None:
        super().__init__(
            f"This path does not take {method}; it takes {', '.join(allowed)}.",
            headers={"Allow": ", ".join(allowed)},
        )


class Conflict(ApiProblem):
    status = 409
    name = "conflict"
    title = "Conflict"


class PayloadTooLarge(ApiProblem):
    status = 413
    name = "payload-too-large"
    title = "Request body too large"


class UnsupportedMediaType(ApiProblem):
    status = 415
    name = "unsupported-media-type"
    title = "Unsupported media type"


class Unprocessable(ApiProblem):
    status = 422
    name = "unprocessable"
    title = "The request cannot be processed"


class TooManyRequests(ApiProblem):
    status = 429
    name = "too-many-requests"
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class ServerError(ApiProblem):
    status = 500
    name = "server-error"
    title = "Something went wrong"


class ApiKeyError(ValueError):
    """An API key cannot be made as asked; ``str()`` is fit to show the admin."""


#: Every problem class, by status: the document lists one response per status.
BY_STATUS: dict[int, type[ApiProblem]] = {
    cls.status: cls
    for cls in (
        BadRequest,
        Unauthenticated,
        PermissionMissing,
        NotFound,
        MethodNotAllowed,
        Conflict,
        PayloadTooLarge,
        UnsupportedMediaType,
        Unprocessable,
        TooManyRequests,
        ServerError,
    )
}
