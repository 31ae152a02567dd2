"""Binds the JSON API under /api/v1, its OpenAPI document and docs page, and the admin screens for
API keys to an app."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Flask

from app.api import docs, idempotency, key_screens, problems
from app.api.auth import guarded
from app.api.demo import ensure_demo_key
from app.api.operations import OPERATIONS
from app.extensions import csrf
from app.notify.chores import register_chore
from app.startup import register_startup_step

PREFIX = "/api"
VERSION = "/v1"


def blueprint() -> Blueprint:
    """Every operation of :data:`OPERATIONS` behind its key and permission, the document, the
    docs page, and the catch-all that answers any other path under /api/ with a problem."""
    bp = Blueprint("api", __name__, url_prefix=PREFIX)
    problems.init_blueprint(bp)
    for op in OPERATIONS:
        view = guarded(op.view, op.permission)
        if op.method != "GET":
            csrf.exempt(view)  # a bearer key, never a cookie, authorises these
        bp.add_url_rule(VERSION + op.rule, endpoint=op.name, view_func=view, methods=[op.method])
    bp.add_url_rule(VERSION + "/openapi.json", view_func=docs.openapi_json, methods=["GET"])
    bp.add_url_rule("/docs", view_func=docs.docs_page, methods=["GET"], endpoint="docs")
    csrf.exempt(docs.nowhere)
    every = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    bp.add_url_rule("/", view_func=docs.nowhere, methods=every, defaults={"rest": ""})
    bp.add_url_rule("/<path:rest>", view_func=docs.nowhere, methods=every)
    return bp


def _forget_old_answers(now: datetime) -> None:
    idempotency.forget_old(now)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint())
    key_screens.register(app)
    register_chore(app, "api idempotency", _forget_old_answers)
    register_startup_step(app, "demo API key", ensure_demo_key)
