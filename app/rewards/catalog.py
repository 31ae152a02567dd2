"""What a reward looks like to a member: its title, a line about it, a link, a picture.

The rewards area knows rewards only by name (``pack:spring-birds``, ``scope:offers``). The areas
that own each kind register a describer in their ``init_app``: stickers for ``pack``, consent for
``scope``. A describer returns None for a name it does not know (a rule that names a pack whose
folder was removed, say), and the reward is then left out of pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask
from markupsafe import Markup

from app.registry import Registry


@dataclass(frozen=True)
class RewardDescription:
    """How a reward is shown. ``offer`` is extra HTML under an earned reward: for a scope, its
    promise and the unticked opt-in form; for a pack, its download links."""

    reward: str
    title: str
    summary: str = ""
    url: str | None = None
    image_url: str | None = None
    offer: Markup | None = None


Describer = Callable[[str, int | None], RewardDescription | None]
"""``describe(ref, member_id)``: ``ref`` is the part after the colon; ``member_id`` is the
signed-in member (or None) so the description can fit them."""

DESCRIBERS = Registry[Describer](
    "reward_describers", "how a kind of reward (the part before the colon) is shown"
)


def register_describer(app: Flask, kind: str, describe: Describer) -> None:
    """Describe rewards named ``kind:<ref>`` with ``describe``."""
    DESCRIBERS.add(app, kind, describe)


def describe(reward: str, member_id: int | None = None) -> RewardDescription | None:
    """The description of ``reward``, or None when no area knows it."""
    kind, _, ref = reward.partition(":")
    describer = DESCRIBERS.named().get(kind)
    return describer(ref, member_id) if describer is not None else None


def has_describer(kind: str) -> bool:
    """Whether an area registered a describer for ``kind`` (``pack``, ``scope``)."""
    return kind in DESCRIBERS.named()
