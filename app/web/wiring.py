"""Binds the cross-cutting web parts to an app: security headers, static file URLs, error pages,
URL helpers, the member's local times, and the links areas add to the layout."""

from __future__ import annotations

from flask import Flask

from app.web import assets, errors, nav, security
from app.web.times import day_filter, moment_filter
from app.web.urls import return_path


def init_app(app: Flask) -> None:
    security.init_app(app)
    assets.init_app(app)
    errors.init_app(app)
    nav.init_app(app)
    app.jinja_env.globals["return_path"] = return_path
    app.jinja_env.filters["day"] = day_filter
    app.jinja_env.filters["moment"] = moment_filter
    app.jinja_env.filters["local_time"] = moment_filter  # the former name, kept for one release
