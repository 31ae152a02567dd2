"""The stickers area's objects for an app: where its packs and builds live, and its library."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from app.registry import Slot
from app.stickers.build import BuildOptions
from app.stickers.library import PackLibrary
from app.stickers.manifests import SiteLinks

PACK_LIBRARY = Slot[PackLibrary](
    "sticker_library", "the sticker packs and their builds", set_by="app.stickers.wiring.init_app"
)


def output_dir(app: Flask) -> Path:
    """``instance/stickers``: built packs and personalised stickers, never committed."""
    return Path(app.instance_path) / "stickers"


def build_options(app: Flask) -> BuildOptions:
    base = app.config["BASE_URL"]
    return BuildOptions(
        stickers_dir=Path(app.config["STICKERS_DIR"]),
        output_dir=output_dir(app),
        telegram_bot=app.config["TELEGRAM_BOT_USERNAME"],
        max_pixels=app.config["STICKERS_MAX_PIXELS"],
        workers=app.config["STICKERS_WORKERS"],
        links=SiteLinks(website=f"{base}/", privacy_policy=f"{base}/privacy/"),
    )


def make_library(app: Flask) -> PackLibrary:
    return PackLibrary(
        Path(app.config["STICKERS_DIR"]), output_dir(app), app.config["TELEGRAM_BOT_USERNAME"]
    )


def library() -> PackLibrary:
    """The library of the current app."""
    return PACK_LIBRARY.get()
