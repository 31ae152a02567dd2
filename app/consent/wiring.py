"""Binds the consent area to an app: scopes, the ledger's part in deletion and export, the
permissions pages, subscriptions, calls to action, reward offers, the CLI."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from app import events
from app.accounts.privacy import MemberDeleting, register_exporter
from app.consent.checks import check_scopes
from app.consent.privacy import export_consent, on_member_deleting
from app.consent.scopes import ScopeSource
from app.site.checks import register_content_check


def init_app(app: Flask) -> None:
    app.extensions["pullfirst.scopes"] = ScopeSource(
        Path(app.config["CONTENT_DIR"]) / "scopes.toml")
    register_content_check(app, "scopes", check_scopes)
    register_exporter(app, "consent", export_consent)
    events.subscribe(app, MemberDeleting, on_member_deleting)
