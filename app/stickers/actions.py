"""More ways to get a pack, offered by higher areas on the pack's page.

The stickers area knows how to build and serve packs; it does not know the messengers' bots. An
area that can put a pack straight into an app (the Telegram bot's one-tap sticker set) registers
a :data:`PackAction` in its ``init_app``; the pack page shows what each action draws for a
member who holds the pack, above the downloads.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from markupsafe import Markup

from app.registry import Registry
from app.stickers.library import ListedPack

#: ``action(pack, member_id)``: the HTML to show on the page of a built pack the member holds,
#: or None to show nothing.
PackAction = Callable[[ListedPack, int], Markup | None]

PACK_ACTIONS = Registry[PackAction](
    "sticker_pack_actions", "another way to get a pack, drawn on the pack's page"
)


def register_pack_action(app: Flask, name: str, action: PackAction) -> None:
    PACK_ACTIONS.add(app, name, action)


def pack_actions(pack: ListedPack, member_id: int) -> list[Markup]:
    """What every registered action draws for the member, in the order they were added."""
    drawn = (action(pack, member_id) for action in PACK_ACTIONS.items())
    return [html for html in drawn if html is not None]
