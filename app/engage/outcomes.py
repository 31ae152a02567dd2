"""What an action earns, as the engage pages show it ("answering earns …", "you earned …").

The engage area knows actions, not rewards: the rewards area registers a :class:`RewardLookup`
in its ``init_app``. Until one is registered, pages simply show no rewards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flask import Flask

from app.registry import Slot


@dataclass(frozen=True)
class ShownReward:
    """A reward as a line on a page: its title, a sentence about it, a link and a picture."""

    title: str
    summary: str = ""
    url: str | None = None
    image_url: str | None = None
    kind: str = ""  # "pack", "scope": a pack is given; a scope is only offered, unticked


class RewardLookup(Protocol):
    def earned(self, member_id: int, action: str) -> list[ShownReward]:
        """The rewards ``member_id`` holds because of ``action``."""
        ...

    def unlocked_by(self, action: str, member_id: int | None) -> list[ShownReward]:
        """The rewards that ``action`` would earn (for ``member_id``, when signed in)."""
        ...

    def page_url(self) -> str:
        """Where a member sees everything they earned."""
        ...


REWARD_LOOKUP = Slot[RewardLookup](
    "reward_lookup",
    "what actions earn, for the engage pages (empty: no rewards shown)",
    set_by="app.rewards.wiring.init_app",
)


def register_reward_lookup(app: Flask, lookup: RewardLookup) -> None:
    """Let the engage pages show what ``lookup`` says actions earn."""
    REWARD_LOOKUP.set(app, lookup)


def _lookup() -> RewardLookup | None:
    return REWARD_LOOKUP.find()


def earned_by(member_id: int, action: str) -> list[ShownReward]:
    lookup = _lookup()
    return lookup.earned(member_id, action) if lookup is not None else []


def unlocked_by(action: str, member_id: int | None = None) -> list[ShownReward]:
    lookup = _lookup()
    return lookup.unlocked_by(action, member_id) if lookup is not None else []


def rewards_page_url() -> str | None:
    lookup = _lookup()
    return lookup.page_url() if lookup is not None else None
