"""Binds the rewards area to an app: grant what each new action unlocks, back-fill at start."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from app import clock, events
from app.engage.actions import ActionRecorded
from app.extensions import db
from app.rewards.entitlements import grant_for_action, sync
from app.rewards.rules import RuleSource
from app.startup import register_startup_step


def _on_action(event: ActionRecorded) -> None:
    grant_for_action(event.member_id, event.action, event.at)


def _sync_at_start() -> str:
    added = sync(clock.now())
    db.session.commit()
    return f"{added} entitlements back-filled" if added else "entitlements up to date"


def init_app(app: Flask) -> None:
    app.extensions["pullfirst.rules"] = RuleSource(
        Path(app.config["STICKERS_DIR"]), Path(app.config["CONTENT_DIR"]) / "scopes.toml"
    )
    events.subscribe(app, ActionRecorded, _on_action)
    register_startup_step(app, "rewards", _sync_at_start)
