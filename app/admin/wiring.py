"""Binds the admin screens to an app."""

from __future__ import annotations

from flask import Flask

from app.admin import codes, members, surveys  # noqa: F401 - members adds its routes to bp
from app.admin.views import bp
from app.web.nav import AdminSection, register_admin_section


def init_app(app: Flask) -> None:
    register_admin_section(app, AdminSection(
        "Members", "admin.members", "marketer",
        "Each member's permissions, consent history, and what the gate decides for them.",
        order=40))
    app.register_blueprint(bp)
    surveys.register(app)
    codes.register(app)
