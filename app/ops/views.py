"""``/healthz``, ``/readyz`` and ``/metrics``: for load balancers, systemd and Prometheus.

None of them is cached or rate-limited. ``/healthz`` only proves the process answers (it
touches no database); ``/readyz`` runs :func:`app.ops.health.readiness`; ``/metrics`` answers
404 unless ``METRICS_TOKEN`` is set, then 401 without ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from flask import Response, abort, current_app, jsonify, request

from app import clock
from app.database import migrate
from app.extensions import db
from app.ops import metrics
from app.ops.health import readiness
from app.registry import Slot

NO_STORE = "no-store"
HEAD = Slot[str | None](
    "head_revision",
    "the newest migration, read from the migrations folder once per process",
    set_by="app.ops.views.readyz",
)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = NO_STORE
    return response


def healthz() -> Response:
    return _no_store(jsonify(status="alive"))


def readyz() -> Response:
    head = HEAD.ensure(migrate.head_revision)
    result = readiness(db.engine, head, clock.now(), current_app.config["READY_WORKER_MAX_AGE"])
    response = jsonify(result.as_json())
    response.status_code = 200 if result.ready else 503
    return _no_store(response)


def _authorised(token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def metrics_page() -> Response:
    token: str = current_app.config["METRICS_TOKEN"]
    if not token:
        abort(404)
    if not _authorised(token):
        response = Response("a bearer token is needed\n", 401, mimetype="text/plain")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return _no_store(response)
    families: list[metrics.Family] = []
    latency = metrics.REQUEST_LATENCY.find()
    if latency is not None:
        families.append(latency.family())
    for collect in metrics.collectors(current_app):
        found: Iterable[metrics.Family] = collect()
        families.extend(found)
    db.session.rollback()
    response = Response(metrics.render(families), 200)
    response.headers["Content-Type"] = metrics.CONTENT_TYPE
    return _no_store(response)
