"""Errors of the Telegram bot::

TelegramError           base; ``str(error)`` is fit to show the operator or the member
├── BotOff              no TELEGRAM_BOT_TOKEN: the bot is not set up
└── StickerSetRefused   a pack cannot be added to the member's Telegram now
    ├── NotEntitled     the member does not hold the pack
    ├── NotLinked       the member has not linked Telegram
    ├── ChatBlocked     the member blocked the bot
    └── PackNotReady    the pack has no build yet
"""

from __future__ import annotations


class TelegramError(Exception):
    pass


class BotOff(TelegramError):
    pass


class StickerSetRefused(TelegramError):
    """The pack was not added; ``str(error)`` says why, in words for the member."""


class NotEntitled(StickerSetRefused):
    pass


class NotLinked(StickerSetRefused):
    pass


class ChatBlocked(StickerSetRefused):
    pass


class PackNotReady(StickerSetRefused):
    pass
