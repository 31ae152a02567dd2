"""Binds the admin screens to an app."""

from __future__ import annotations

from flask import Flask

# content and members add their routes to bp when imported.
from app.admin import campaigns, codes, content, members, surveys  # noqa: F401
from app.admin.views import bp
from app.web.nav import AdminSection, register_admin_section


def init_app(app: Flask) -> None:
    register_admin_section(
        app,
        AdminSection(
            "Members",
            "admin.members",
            "marketer",
            "Each member's permissions, consent history, and what the gate decides for them.",
            order=40,
        ),
    )
    app.register_blueprint(bp)
    surveys.register(app)
    codes.register(app)
    campaigns.register(app)
    register_admin_section(
        app,
        AdminSection(
            "Content",
            "admin.content_list",
            "editor",
            "Write, preview, publish and schedule posts and pages.",
            order=10,
        ),
    )
