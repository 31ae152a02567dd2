"""Small typed events, so a lower area can tell a higher one that something happened.

A lower area calls :func:`emit` with a frozen dataclass; a higher area registers a handler with
:func:`subscribe` in its ``init_app``. Handlers run at once, in the caller's transaction, in the
order they were registered: what they write commits or rolls back together with the event's
cause.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from flask import Flask

from app.registry import Slot


class Event:
    """Base of every event; subclasses are frozen dataclasses with a stable ``name``."""

    name: ClassVar[str] = "event"


E = TypeVar("E", bound=Event)
Handler = Callable[[Any], None]


HANDLERS = Slot[defaultdict[type[Event], list[Handler]]](
    "events", "the handlers subscribed to each type of event", set_by="app.events.subscribe"
)


def _handlers(app: Flask | None = None) -> defaultdict[type[Event], list[Handler]]:
    return HANDLERS.ensure(lambda: defaultdict(list), app)


def subscribe(app: Flask, event_type: type[E], handler: Callable[[E], None]) -> None:
    """Call ``handler(event)`` whenever an event of ``event_type`` is emitted in ``app``."""
    _handlers(app)[event_type].append(handler)


def emit(event: Event) -> None:
    """Run every handler subscribed to the type of ``event`` in the current app."""
    for handler in _handlers()[type(event)]:
        handler(event)
