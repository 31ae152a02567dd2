"""Binds the admin screens to an app."""

from __future__ import annotations

from flask import Flask

from app.admin import content  # noqa: F401 - adds the content editor's routes to bp
from app.admin.views import bp
from app.web.nav import AdminSection, register_admin_section


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    register_admin_section(app, AdminSection(
        "Content", "admin.content_list", "editor",
        "Write, preview, publish and schedule posts and pages.", order=10))
