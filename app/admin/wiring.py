"""Binds the admin screens to an app."""

from __future__ import annotations

from flask import Flask

from app.admin import campaign_screens, code_batches, content_history, survey_results
from app.admin.routes import blueprint
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
    app.register_blueprint(blueprint())
    survey_results.register(app)
    code_batches.register(app)
    campaign_screens.register(app)
    content_history.register(app)
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
