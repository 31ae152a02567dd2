"""Binds the consent area to an app: scopes, the ledger's part in deletion and export, the
permissions pages, subscriptions, calls to action, reward offers, the CLI and the upkeep."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from app import clock, events
from app.accounts.privacy import MemberDeleting, register_exporter
from app.consent import push, words
from app.consent.blocks import describe_scope, render_scope_cta, scope_exists
from app.consent.checks import check_scopes
from app.consent.cli import consent_cli
from app.consent.demo import ensure_demo_crowd_consents, ensure_demo_reader
from app.consent.ledger.keys import ready_key
from app.consent.ledger.upkeep import tidy
from app.consent.permissions import stale_count
from app.consent.privacy import export_consent, on_member_deleting
from app.consent.scopes import SCOPES, ScopeSource
from app.consent.terms import CampaignKind, Channel
from app.consent.views.routes import blueprint
from app.consent.words import channel_words
from app.extensions import db
from app.rewards.catalog import register_describer
from app.site.checks import register_content_check
from app.site.cta import CtaKind, register_cta_kind
from app.startup import register_startup_step
from app.web.converters import word_converter
from app.web.nav import MemberLink, register_member_link


def _startup() -> str:
    done = tidy(clock.now())
    db.session.commit()
    demo = [said for said in (ensure_demo_reader(), ensure_demo_crowd_consents()) if said]
    line = f"{done.lapsed} lapsed permissions revoked, {done.requests} old requests dropped"
    return "; ".join([line, *demo])


def _push_keys() -> str:
    public = push.keys().public_key
    return f"VAPID public key {public[:12]}…"


def init_app(app: Flask) -> None:
    scopes_file = Path(app.config["CONTENT_DIR"]) / "scopes.toml"
    SCOPES.set(app, ScopeSource(scopes_file, app.config["SMS_PROGRAM"]))
    register_content_check(app, "scopes", check_scopes)
    register_exporter(app, "consent", export_consent)
    events.subscribe(app, MemberDeleting, on_member_deleting)
    register_cta_kind(app, CtaKind("scope", scope_exists, render_scope_cta))
    register_describer(app, "scope", describe_scope)
    register_member_link(
        app, MemberLink("Permissions", "consent.permissions_page", order=30, count=stale_count)
    )
    app.jinja_env.globals["channel_phrase"] = channel_words
    app.jinja_env.globals["consent_words"] = words  # the sentences of yes and stop
    app.jinja_env.globals.update(Channel=Channel, CampaignKind=CampaignKind)  # the words as types
    # <channel:…> in paths: only a channel matches (consent's and admin's routes use it)
    app.url_map.converters["channel"] = word_converter(Channel)
    app.register_blueprint(blueprint())
    app.cli.add_command(consent_cli)
    register_startup_step(app, "consent", _startup)
    register_startup_step(app, "consent receipts", ready_key)
    register_startup_step(app, "push keys", _push_keys)
    app.jinja_env.globals["push_key"] = lambda: push.keys().public_key
