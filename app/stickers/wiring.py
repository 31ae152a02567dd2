"""Binds the stickers area to an app: pages, commands, the ``pack`` reward describer, the build
at start-up, and the removal of a member's personalised stickers with their account."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from app import events
from app.accounts.privacy import MemberDeleting, register_exporter
from app.rewards.catalog import register_describer
from app.startup import register_startup_step
from app.stickers import personal
from app.stickers.background import start_background_build
from app.stickers.cli import stickers_cli
from app.stickers.context import PACK_LIBRARY, make_library, output_dir
from app.stickers.reward import describe_pack
from app.stickers.routes import blueprint


def _on_member_deleting(event: MemberDeleting) -> None:
    # Files are not part of the transaction: if it rolls back, the sticker is simply rendered
    # again on the next download.
    personal.remove_member(output_dir(current_app), event.member_id)


def _export(member_id: int) -> Any:
    return {"personalised_packs": personal.personalised_packs(output_dir(current_app), member_id)}


def init_app(app: Flask) -> None:
    PACK_LIBRARY.set(app, make_library(app))
    app.register_blueprint(blueprint())
    app.cli.add_command(stickers_cli)
    register_describer(app, "pack", describe_pack)
    events.subscribe(app, MemberDeleting, _on_member_deleting)
    register_exporter(app, "stickers", _export)
    register_startup_step(app, "sticker packs", start_background_build)
