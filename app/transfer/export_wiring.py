"""Binds the member export (the `flask members export` command and the admin download) to an app."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    pass
