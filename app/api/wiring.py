"""Binds the API, its keys and the event webhooks to an app."""

from __future__ import annotations

from flask import Flask

from app.api import hooks_wiring, rest_wiring


def init_app(app: Flask) -> None:
    rest_wiring.init_app(app)
    hooks_wiring.init_app(app)
