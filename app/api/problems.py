"""RFC 9457 problem details for every error under /api/: the API's own problems, Werkzeug's
HTTP errors (a body too large, a rate limit) and failures of ours, all answered as
``application/problem+json`` with ``type``, ``title``, ``status``, ``detail``, ``instance``
and, for field validation, ``errors`` (field name -> messages).

A ``type`` is ``<BASE_URL>/api/docs#problem-<name>``: the docs page explains each one.
"""

from __future__ import annotations

import json
import logging
import math
import time
from typing import Any

from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException, InternalServerError

from app.api.errors import (
    BY_STATUS,
    ApiProblem,
    BadRequest,
    MethodNotAllowed,
    TooManyRequests,
)
from app.extensions import db, limiter
from app.web.urls import external_url

log = logging.getLogger("pullfirst.api")

PROBLEM_JSON = "application/problem+json"
DEFAULT_RETRY_AFTER = 60


def problem_type(name: str) -> str:
    return f"{external_url('api.docs')}#problem-{name}"


def problem_body(problem: ApiProblem) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem_type(problem.name),
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.path,
    }
    if problem.errors:
        body["errors"] = problem.errors
    permission = getattr(problem, "permission", None)
    if permission is not None:
        body["permission"] = permission
    return body


def problem_response(problem: ApiProblem) -> Response:
    response = Response(
        json.dumps(problem_body(problem), ensure_ascii=False),
        status=problem.status,
        mimetype=PROBLEM_JSON,
    )
    response.headers["Cache-Control"] = "no-store"
    for name, value in problem.headers.items():
        response.headers[name] = value
    return response


def _retry_after() -> int:
    """Seconds until the key's window resets (the limiter's own count): 1 to 60, as the
    limits are per minute."""
    try:
        current = limiter.current_limit
        if current is not None:
            return min(DEFAULT_RETRY_AFTER, max(1, math.ceil(current.reset_at - time.time())))
    except Exception:  # the storage may be unreachable: a minute is a safe answer
        log.debug("no rate-limit window to read", exc_info=True)
    return DEFAULT_RETRY_AFTER


def from_http(error: HTTPException) -> ApiProblem:
    """The problem that stands for a Werkzeug HTTP error raised under /api/."""
    code = error.code or 500
    if code == 429:
        return TooManyRequests(
            "This key made more requests this minute than its limit allows; "
            "wait for the time Retry-After gives.",
            _retry_after(),
        )
    if code == 405:
        allowed = sorted(getattr(error, "valid_methods", None) or [])
        return MethodNotAllowed(request.method, allowed)
    cls = BY_STATUS.get(code)
    if cls is None or cls in (TooManyRequests, MethodNotAllowed):
        cls = BadRequest if code < 500 else BY_STATUS[500]
    described = error.description if error.description != type(error).description else None
    detail = {
        400: "The request could not be understood.",
        404: "There is nothing at this address.",
        413: "The request body is larger than the API accepts.",
        415: "Send the body as application/json.",
    }.get(code, "The request failed.")
    problem = ApiProblem(described or detail)
    problem.status, problem.name, problem.title = cls.status, cls.name, cls.title
    return problem


def init_blueprint(bp: Blueprint) -> None:
    """Answer every error raised under ``bp`` as a problem."""

    @bp.errorhandler(ApiProblem)
    def _problem(problem: ApiProblem) -> Response:
        if problem.status >= 500:
            db.session.rollback()
        return problem_response(problem)

    @bp.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        if isinstance(error, InternalServerError):
            return _internal(error)
        return problem_response(from_http(error))

    @bp.errorhandler(InternalServerError)
    def _internal(error: InternalServerError) -> Response:
        db.session.rollback()
        return problem_response(
            BY_STATUS[500]("We could not finish this request. It has been logged.")
        )
