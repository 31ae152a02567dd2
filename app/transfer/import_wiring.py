"""Binds the member importer (the `flask members import` command, the admin screen, the invitation
chore) to an app."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    pass
