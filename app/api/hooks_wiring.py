"""Binds the event webhooks: the handlers that queue events, the worker chore that delivers them,
and the admin screens for endpoints to an app."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    pass
