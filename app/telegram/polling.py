"""Long polling: for a site Telegram cannot reach with a webhook, ``flask telegram poll`` asks
the Bot API for updates (``getUpdates`` with a timeout) and handles each one in turn.

Telegram keeps an update until a later ``getUpdates`` asks from an ``offset`` past it, so the
offset moves on only after an update was handled: a poller stopped mid-update gets it again,
and :func:`app.telegram.chat.handle_update` does nothing the second time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from app import clock
from app.outbound.botapi import BotApi, BotApiUnreachable
from app.telegram.chat import handle_update, speak

log = logging.getLogger("pullfirst.telegram")

ALLOWED_UPDATES = ["message", "callback_query"]
MAX_PAUSE = 60.0


def poll(
    api: BotApi,
    stopping: threading.Event,
    *,
    timeout: int = 50,
    once: bool = False,
    wait: Callable[[float], object] | None = None,
) -> int:
    """Handle updates until ``stopping`` is set (or one round with ``once``); returns how many
    were handled. When the Bot API cannot be reached, waits with backoff and tries again;
    other refusals (a wrong token, a webhook still set) are raised."""
    pause = wait or stopping.wait
    offset: int | None = None
    handled, failures = 0, 0
    while not stopping.is_set():
        try:
            updates = api.get_updates(offset, 0 if once else timeout, ALLOWED_UPDATES)
        except BotApiUnreachable as exc:
            failures += 1
            delay = min(MAX_PAUSE, 2.0**failures)
            log.warning("telegram: %s; trying again in %.0f s", exc, delay)
            if once:
                raise
            pause(delay)
            continue
        failures = 0
        for update in updates:
            speak(api, handle_update(update, clock.now()))
            offset = int(update["update_id"]) + 1
            handled += 1
        if once:
            break
    if offset is not None:
        api.get_updates(offset, 0, ALLOWED_UPDATES)  # confirm the last one to Telegram
    return handled
