"""How a pack looks as a reward (``pack:<slug>``) on the pages that list rewards."""

from __future__ import annotations

from flask import render_template, url_for
from markupsafe import Markup

from app.rewards.catalog import RewardDescription
from app.rewards.entitlements import holds
from app.stickers import limits
from app.stickers.context import library
from app.stickers.library import ListedPack


def cover_url(listed: ListedPack) -> str | None:
    """The URL of the pack's cover preview, or None while it is being built."""
    if listed.build is None:
        return None
    return url_for(
        "stickers.preview",
        slug=listed.slug,
        name=listed.build.cover_sticker.name,
        v=listed.build.hash[:12],
    )


def summary(listed: ListedPack) -> str:
    count = listed.spec.sticker_count
    platforms = (
        ", ".join(p.label for p in limits.PLATFORMS[:-1]) + f" and {limits.PLATFORMS[-1].label}"
    )
    return listed.spec.description or f"{count} stickers for {platforms}."


def describe_pack(ref: str, member_id: int | None) -> RewardDescription | None:
    """The describer of ``pack:<ref>`` rewards. An entitled member's description carries the
    download links (or says the pack is still being built) as its ``offer``."""
    listed = library().pack(ref)
    if listed is None:
        return None
    offer = None
    if member_id is not None and holds(member_id, f"pack:{ref}"):
        html = render_template("stickers/_offer.html", pack=listed, platforms=limits.PLATFORMS)
        offer = Markup(html)  # noqa: S704 - an autoescaping template
    return RewardDescription(
        reward=f"pack:{ref}",
        title=listed.spec.title,
        summary=summary(listed),
        url=url_for("stickers.pack", slug=ref),
        image_url=cover_url(listed),
        offer=offer,
    )
