"""Binds the admin screens to an app."""

from __future__ import annotations

from flask import Flask

from app.admin import codes, surveys
from app.admin.views import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    surveys.register(app)
    codes.register(app)
