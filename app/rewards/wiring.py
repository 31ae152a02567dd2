"""Binds the rewards area to an app: grant what each new action unlocks, back-fill at start,
the rewards page and its header link, the engage pages' reward lookup, the data export."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from app import clock, events
from app.accounts.privacy import register_exporter
from app.engage.actions import ActionRecorded
from app.engage.outcomes import register_reward_lookup
from app.extensions import db
from app.rewards.cli import rewards_cli
from app.rewards.entitlements import entitlements_export, grant_for_action, sync
from app.rewards.lookup import EntitlementLookup
from app.rewards.routes import blueprint
from app.rewards.rules import RULES, RuleSource
from app.startup import register_startup_step
from app.web.nav import MemberLink, register_member_link


def _on_action(event: ActionRecorded) -> None:
    grant_for_action(event.member_id, event.action, event.at)


def _sync_at_start() -> str:
    added = sync(clock.now())
    db.session.commit()
    return f"{added} entitlements back-filled" if added else "entitlements up to date"


def init_app(app: Flask) -> None:
    RULES.set(
        app,
        RuleSource(
            Path(app.config["STICKERS_DIR"]), Path(app.config["CONTENT_DIR"]) / "scopes.toml"
        ),
    )
    events.subscribe(app, ActionRecorded, _on_action)
    register_startup_step(app, "rewards", _sync_at_start)
    app.register_blueprint(blueprint())
    app.cli.add_command(rewards_cli)
    register_member_link(app, MemberLink("Rewards", "rewards.page", order=20))
    register_reward_lookup(app, EntitlementLookup())
    register_exporter(app, "entitlements", entitlements_export)
