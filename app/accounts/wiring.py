"""Binds the accounts area to an app: sign-in handling, blueprint, CLI."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from app.accounts.cli import users_cli
from app.accounts.demo import ensure_demo_admin
from app.accounts.routes import blueprint
from app.accounts.sessions import load_signed_in
from app.extensions import login_manager
from app.startup import register_startup_step


def _unauthorized() -> Response:
    flash("Please sign in to continue.", "info")
    return redirect(url_for("accounts.signin", next=request.full_path.rstrip("?")))


def init_app(app: Flask) -> None:
    app.config.setdefault("REMEMBER_COOKIE_DURATION", timedelta(days=30))
    login_manager.init_app(app)
    login_manager.user_loader(load_signed_in)
    login_manager.unauthorized_handler(_unauthorized)
    app.register_blueprint(blueprint())
    app.cli.add_command(users_cli)
    register_startup_step(app, "demo admin", ensure_demo_admin)
