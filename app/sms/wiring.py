"""Binds text messages to an app: Kannel's calls and ``flask sms …``."""

from __future__ import annotations

from flask import Flask

from app.extensions import limiter
from app.sms.cli import sms_cli
from app.sms.routes import blueprint


def init_app(app: Flask) -> None:
    sms = blueprint()
    # Kannel calls with GET (no CSRF token is needed or read), carrying the shared secret.
    limiter.exempt(sms)  # one caller, Kannel, authenticated by that secret
    app.register_blueprint(sms)
    app.cli.add_command(sms_cli)
