"""Binds the site area to an app: site settings in every template, the pull-side pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, current_app

from app.site import cta
from app.site.settings import SiteSettings, SiteSettingsSource
from app.site.views import bp


def site_settings() -> SiteSettings:
    source: SiteSettingsSource = current_app.extensions["pullfirst.site_settings"]
    return source.get()


def init_app(app: Flask) -> None:
    app.extensions["pullfirst.site_settings"] = SiteSettingsSource(
        Path(app.config["CONTENT_DIR"]) / "site.toml"
    )
    app.jinja_env.globals["site_title"] = lambda: site_settings().title
    cta.init_app(app)

    @app.context_processor
    def _site() -> dict[str, Any]:
        return {"site": site_settings()}

    app.register_blueprint(bp)
