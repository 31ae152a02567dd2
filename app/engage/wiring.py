"""Binds the engage area to an app: a verified address is the ``account`` action."""

from __future__ import annotations

from flask import Flask

from app import events
from app.accounts.members import MemberVerified
from app.engage.actions import record_action


def _on_member_verified(event: MemberVerified) -> None:
    record_action(event.member_id, "account", event.at)


def init_app(app: Flask) -> None:
    events.subscribe(app, MemberVerified, _on_member_verified)
