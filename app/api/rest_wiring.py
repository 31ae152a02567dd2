"""Binds the JSON API under /api/v1, its OpenAPI document and docs page, and the admin screens for
API keys to an app."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    pass
